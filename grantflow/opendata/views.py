"""Open data pages, public: what is published and the 360Giving file of the funded grants."""

import json

from flask import Blueprint, Response, current_app, render_template, request
from flask_babel import gettext as _

from grantflow.core.safety import small_int
from grantflow.core.web import public_page
from grantflow.opendata import operations as ops

bp = Blueprint("opendata", __name__, url_prefix="/open-data")


@bp.route("/")
@public_page
def index():
    return render_template(
        "opendata/index.html", competitions=ops.competitions_with_grants(), licence=current_app.config["OPEN_DATA_LICENSE"]
    )


@bp.route("/360giving.json")
def grants():
    """The whole programme, or one competition with `?competition=<id>`. 404 with a JSON
    reason when there is nothing to publish (the standard's package needs a grant)."""
    raw = request.args.get("competition")
    competition_id = small_int(raw) if raw is not None else None
    if raw is not None and competition_id is None:
        return _problem(400, _("The competition must be given by its number."))
    package = ops.grants_package(competition_id)
    if package is None:
        return _problem(404, _("No funded grants to publish yet."))
    body = json.dumps(package, ensure_ascii=False, indent=1)
    response = Response(body, mimetype="application/json")
    name = "grants" if competition_id is None else f"grants-competition-{competition_id}"
    if request.args.get("download"):
        response.headers["Content-Disposition"] = f'attachment; filename="{name}.json"'
    response.headers["Access-Control-Allow-Origin"] = "*"  # open data: any site may read it
    return response


def _problem(status: int, detail: str) -> Response:
    body = json.dumps({"status": status, "title": detail}, ensure_ascii=False)
    return Response(body, status=status, mimetype="application/problem+json")
