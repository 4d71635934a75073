"""JSON API routes of the scoring area."""

from flask import Blueprint

bp = Blueprint("scoring_api", __name__)
