"""JSON API routes of the ledger area."""

from flask import Blueprint

bp = Blueprint("ledger_api", __name__)
