"""JSON API routes of the anchor area."""

from flask import Blueprint

bp = Blueprint("anchor_api", __name__)
