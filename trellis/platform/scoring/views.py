"""Pages of the scoring area (a stub until the area is built)."""

from flask import Blueprint, render_template

from trellis.platform.web import roles_required

bp = Blueprint("scoring", __name__, url_prefix="/scoring")


@bp.get("/")
@roles_required("admin", "rm")
def index():
    return render_template("stub.html", title="Risk")
