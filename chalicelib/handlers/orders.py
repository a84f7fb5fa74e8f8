"""The customer's order page."""

from chalice import Blueprint

from chalicelib.services import orders

bp = Blueprint(__name__)


@bp.route("/orders/{order_id}", methods=["GET"])
def get_order(order_id):
    token = bp.current_request.headers.get("x-order-token")
    return orders.get_for_customer(order_id, token).model_dump(mode="json")
