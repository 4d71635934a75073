"""Pages of the network area (a stub until the area is built)."""

from flask import Blueprint, render_template

from trellis.platform.web import roles_required

bp = Blueprint("network", __name__, url_prefix="/network")


@bp.get("/")
@roles_required("admin", "rm")
def index():
    return render_template("stub.html", title="Clusters")
