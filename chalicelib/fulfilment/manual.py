"""The manual provider: nothing leaves the system. A paid order shows `fulfilment_status:
requested` and waits for the shop to ship it and record the shipment through the admin API."""


def hand_over(event: dict, body: str) -> str | None:
    """Accept any event and do nothing."""
    return None
