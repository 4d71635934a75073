"""Pages of the vendor area (a stub until the area is built)."""

from flask import Blueprint, render_template

from trellis.platform.web import roles_required

bp = Blueprint("vendor", __name__, url_prefix="/vendor")


@bp.get("/")
@roles_required("vendor")
def index():
    return render_template("stub.html", title="My firm")
