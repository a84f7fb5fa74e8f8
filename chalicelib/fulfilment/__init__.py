"""The fulfilment provider interface, and the provider registry.

A provider is a module with one duty:

- `hand_over(event: dict, body: str) -> str | None`: tell the warehouse or 3PL about an event on
  the fulfilment queue: `OrderPaid` (ship this order), `OrderCancelled` (a paid order was cancelled:
  do not ship it), `ShipmentCreated` (the shop recorded a shipment), `ReturnApproved` (a return request:
  `data.return` holds its number and lines; expect the goods back). `event` is the parsed message,
  `body` its exact JSON text as queued. Returns a reference worth recording (or None). Raises
  HandOverFailed (or any other error) when the provider did not accept it; the queue then delivers
  the message again, and after five attempts it is dead-lettered. It may be called again for an
  event it has accepted (a worker can die between the provider's answer and our record of it), so
  the provider should de-duplicate on `event["id"]`.

Providers, chosen by FULFILMENT_PROVIDER:

- `manual` (the default): does nothing; the order waits in the admin API for the shop to ship it.
- `webhook`: POSTs the event to FULFILMENT_WEBHOOK_URL, signed with FULFILMENT_WEBHOOK_SECRET.

The consumer (services/fulfilment.py) has already made the hand-over happen once per event id and
marked a paid order's fulfilment as requested; providers only talk to the outside.
"""

from importlib import import_module

PROVIDERS = ("manual", "webhook")


class HandOverFailed(Exception):
    """The provider did not accept the event (an error status, a timeout, no connection)."""


def provider(name: str):
    """The provider module by name. Raises ValueError for an unknown name (a configuration error)."""
    if name not in PROVIDERS:
        raise ValueError(f"Unknown fulfilment provider {name!r}; expected one of {', '.join(PROVIDERS)}.")
    return import_module(f"chalicelib.fulfilment.{name}")
