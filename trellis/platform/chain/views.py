"""Pages of the chain area (a stub until the area is built)."""

from flask import Blueprint, render_template

from trellis.platform.web import roles_required

bp = Blueprint("chain", __name__, url_prefix="/chain")


@bp.get("/")
@roles_required("admin", "auditor")
def index():
    return render_template("stub.html", title="Chain audit")
