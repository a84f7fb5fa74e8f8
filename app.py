"""The API function: every HTTP route, registered from the handler blueprints, and the one place
where errors become the `{"error": {...}}` envelope."""

from chalice import Chalice, Response

from chalicelib.errors import CommerceError
from chalicelib.handlers import admin, carts, catalog

app = Chalice(app_name="commerce")
app.register_blueprint(catalog.bp)
app.register_blueprint(carts.bp)
app.register_blueprint(admin.bp)

GENERIC = {
    400: ("invalid_request", "The request is not valid."),
    403: ("forbidden", "Not allowed."),
    404: ("resource_missing", "No such resource."),
    405: ("invalid_request", "This method is not allowed here."),
    415: ("invalid_request", "Send JSON with Content-Type: application/json."),
    500: ("internal_error", "Something went wrong on our side; it has been logged."),
}


def _error(status: int, code: str, message: str) -> Response:
    return Response({"error": {"code": code, "message": message}}, status_code=status)


@app.middleware("http")
def render_errors(event, get_response):
    try:
        response = get_response(event)
    except CommerceError as error:
        return Response(error.to_dict(), status_code=error.status_code)
    if response.status_code >= 400 and not (isinstance(response.body, dict) and "error" in response.body):
        # Chalice's own answers (unhandled exception, bad content type...) in our envelope, and
        # never with a traceback.
        code, message = GENERIC.get(response.status_code, GENERIC[500] if response.status_code >= 500
                                    else GENERIC[400])
        return _error(response.status_code, code, message)
    return response
