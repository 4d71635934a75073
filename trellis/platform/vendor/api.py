"""JSON API routes of the vendor area."""

from flask import Blueprint

bp = Blueprint("vendor_api", __name__)
