"""JSON API routes of the chain area."""

from flask import Blueprint

bp = Blueprint("chain_api", __name__)
