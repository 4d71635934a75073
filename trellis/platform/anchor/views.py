"""Pages of the anchor area (a stub until the area is built)."""

from flask import Blueprint, render_template

from trellis.platform.web import roles_required

bp = Blueprint("anchor", __name__, url_prefix="/anchor")


@bp.get("/")
@roles_required("anchor")
def index():
    return render_template("stub.html", title="Anchor desk")
