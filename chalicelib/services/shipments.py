"""The shop ships an order, all at once or in parts."""

from chalicelib import clock, ordering
from chalicelib.errors import Conflict, InvalidRequest, OrderChanged, StockShort, not_found
from chalicelib.ordering import Order, Shipment, ShipmentLine
from chalicelib.repository import orders

ATTEMPTS = 5


def create(order_id: str, carrier: str, tracking_number: str, lines: list[dict] | None) -> Order:
    """Record a shipment of `lines` (all unshipped lines when None): the stock leaves on_hand and
    reserved, `fulfilment_status` becomes partially_shipped or shipped. Not idempotent by itself (use
    an Idempotency-Key). Raises ResourceMissing, Conflict (not paid, or more than is left to ship)."""
    for _ in range(ATTEMPTS):
        order = orders.get(order_id)
        if order is None:
            raise not_found("order")
        if order.status != "paid":
            raise Conflict(f"An order in state {order.status} cannot be shipped.")
        left = ordering.unshipped(order)
        if lines is None:
            wanted = left
        else:
            wanted = {}
            for index, line in enumerate(lines):
                wanted[line["sku"]] = wanted.get(line["sku"], 0) + line["quantity"]
                if line["sku"] not in {ordered.sku for ordered in order.lines}:
                    raise InvalidRequest(f"SKU {line['sku']} is not in this order.", param=f"lines.{index}.sku")
        for index, (sku, quantity) in enumerate(wanted.items()):
            if quantity > left.get(sku, 0):
                raise Conflict(f"Only {left.get(sku, 0)} of SKU {sku} are left to ship.",
                               param=f"lines.{index}.quantity", code="over_shipment")
        if not wanted:
            raise Conflict("Everything in this order has been shipped.", code="over_shipment")
        shipment = Shipment(id=clock.new_id("shp", 12), carrier=carrier, tracking_number=tracking_number,
                            lines=[ShipmentLine(sku=sku, quantity=q) for sku, q in wanted.items()],
                            created_at=clock.now())
        after = order.model_copy(update={"shipments": [*order.shipments, shipment]})
        after = after.model_copy(update={"fulfilment_status": "partially_shipped" if ordering.unshipped(after)
                                         else "shipped"})
        try:
            return Order.from_record(orders.save(order, after, stock=[(s, q, "ship") for s, q in wanted.items()]))
        except (OrderChanged, StockShort):
            continue
    raise Conflict("The order kept changing; try again.", code="order_changed")
