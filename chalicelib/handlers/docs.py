"""The API's own description: GET /openapi.json (chalicelib/openapi.py)."""

from chalice import Blueprint

from chalicelib.handlers.common import documented

bp = Blueprint(__name__)


@bp.route("/openapi.json", methods=["GET"])
@documented({"type": "object", "description": "An OpenAPI 3.1 document."}, summary="This OpenAPI document")
def openapi_document():
    # Imported and built on the first request: schema generation stays out of every other cold start.
    from chalicelib import openapi

    return openapi.document(bp.current_app)
