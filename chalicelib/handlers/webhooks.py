"""Payment provider webhooks. The signature is verified on the raw body, byte for byte."""

from chalice import Blueprint

from chalicelib.handlers.common import body_bytes
from chalicelib.services import webhooks

bp = Blueprint(__name__)


@bp.route("/webhooks/stripe", methods=["POST"], content_types=["application/json"])
def stripe_webhook():
    request = bp.current_request
    webhooks.receive("stripe", body_bytes(request), request.headers)
    return {"received": True}
