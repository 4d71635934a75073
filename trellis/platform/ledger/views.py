"""Pages of the ledger area (a stub until the area is built)."""

from flask import Blueprint, render_template

from trellis.platform.web import roles_required

bp = Blueprint("ledger", __name__, url_prefix="/ledger")


@bp.get("/")
@roles_required("admin", "rm", "auditor")
def index():
    return render_template("stub.html", title="Loans")
