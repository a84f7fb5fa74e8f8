"""Admin actions that send an email again."""

from chalice import Blueprint, Response

from chalicelib.errors import Conflict, ResourceMissing
from chalicelib.handlers.common import NoBody, admin_body, documented
from chalicelib.models.base import Model
from chalicelib.services import confirmations

bp = Blueprint(__name__)


class ConfirmationQueued(Model):
    order_id: str
    email: str
    event_id: str
    queued_at: str


@bp.route("/admin/orders/{order_id}/confirmation-email", methods=["POST"])
@documented(ConfirmationQueued, status=202, request=NoBody, summary="Send a paid order's confirmation email again",
            errors=[ResourceMissing, Conflict], tag="admin_orders")
def resend_confirmation(order_id):
    """Queue the order confirmation (the OrderPaid email: lines, totals, order page link) to the
    order's email again. Only for an order that was paid (202; 409 `invalid_state` before payment).
    The email goes out within seconds through the email queue; fulfilment is not asked again. Send an
    Idempotency-Key: a retry with the same key queues nothing more."""
    admin_body(NoBody, bp.current_request)
    return Response(confirmations.resend(order_id), status_code=202)
