"""Fulfilment: paid orders are marked as requested and handed to the fulfilment provider
(FULFILMENT_PROVIDER, see chalicelib/fulfilment/), once per event.

A paid order that is no longer paid by the time its OrderPaid is consumed (cancelled or sent for
review meanwhile: SQS does not keep order) is not handed over. OrderCancelled (of a paid order) and
ShipmentCreated are passed on as they are, so a 3PL can stop or reconcile; so is ReturnApproved (a return
request: expect these goods back, under the return's number).

Gift-card lines are not goods: the messages leave them out (events.goods_only), and an order of gift
cards only is never handed over (the relay marks it fulfilled once its cards are issued).
"""

import json

from chalicelib import config, events, fulfilment
from chalicelib.repository import deliveries, orders

CHANNEL = "fulfilment"
PASSED_ON = {"OrderCancelled", "ShipmentCreated", "ReturnApproved"}


def hand_over(event: dict, body: str) -> bool:
    """Act on one fulfilment-queue message; returns whether the provider was called. Redelivery has
    no second effect: the order update is conditional and the hand-over is de-duplicated on the
    event id. Raises whatever the provider raises (the message is retried, then dead-lettered)."""
    kind = event["type"]
    lines = (event["data"].get("order") or {}).get("lines")
    if lines is not None and all(line.get("gift_card") for line in lines):
        return False  # gift cards only: nothing to ship (the relay marks such an order fulfilled)
    shown = events.goods_only(event["data"])
    if shown is not event["data"]:  # queued before gift-card lines were left out of this queue's messages
        event = event | {"data": shown}
        body = json.dumps(event, separators=(",", ":"))
    if kind == "OrderPaid":
        order_id = event["data"]["order"]["id"]
        if not orders.mark_fulfilment_requested(order_id):
            order = orders.get(order_id)
            # Not marked now: either we marked it on an earlier delivery (then finish the hand-over),
            # or the order is no longer waiting for fulfilment (cancelled, in review, shipped by hand).
            if order is None or order.status != "paid" or order.fulfilment_status != "requested":
                return False
    elif kind not in PASSED_ON:
        return False
    provider = fulfilment.provider(config.settings().fulfilment_provider)
    return deliveries.once(CHANNEL, event["id"], lambda: {"reference": provider.hand_over(event, body)})
