"""Payment provider webhooks. The signature is verified on the raw body, byte for byte."""

from chalice import Blueprint

from chalicelib.errors import Conflict, InvalidSignature, ResourceMissing
from chalicelib.handlers.common import body_bytes, documented
from chalicelib.responses import Received
from chalicelib.services import orders

bp = Blueprint(__name__)


@bp.route("/webhooks/stripe", methods=["POST"], content_types=["application/json"])
@documented(Received, request={"type": "object", "description": "A Stripe event, exactly as Stripe sent it."},
            headers={"Stripe-Signature": "Stripe's signature of the raw body."}, summary="Receive a Stripe event",
            errors=[InvalidSignature, ResourceMissing, Conflict])
def stripe_webhook():
    request = bp.current_request
    orders.receive_webhook("stripe", body_bytes(request), request.headers)
    return {"received": True}
