"""JSON API routes of the network area."""

from flask import Blueprint

bp = Blueprint("network_api", __name__)
