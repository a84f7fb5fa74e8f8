"""The customer's order page."""

from chalice import Blueprint

from chalicelib.handlers.common import documented
from chalicelib.ordering import Order
from chalicelib.services import orders

bp = Blueprint(__name__)


@bp.route("/orders/{order_id}", methods=["GET"])
@documented(Order, errors=["resource_missing"], summary="Get an order (the customer's order page)",
            headers={"X-Order-Token": "The `order_token` of the checkout answer; without the right one the "
                                     "order is a 404."})
def get_order(order_id):
    token = bp.current_request.headers.get("x-order-token")
    return orders.get_for_customer(order_id, token).model_dump(mode="json")
