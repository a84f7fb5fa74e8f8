"""The stream relay: every committed change of the table, read as domain models, becomes its events
(published to SQS), its counters (the sales report, bought-together pairs) and its customer's
figures (services/crm.py), each once however often the stream delivers it."""

import dataclasses

from chalicelib import counters, events, publishing
from chalicelib.models.orders import OrderRecord, ships_goods
from chalicelib.repository import orders, reports, stream
from chalicelib.services import catalogue_views, crm, gift_cards


def relay(records: list[dict]) -> int:
    """Turn DynamoDB stream records (Lambda's shape) into published events, and count them into the
    report and bought-together counters (once per change). Raises if either fails, so the stream
    delivers the batch again. Returns the number of events published."""
    found, tallies, order_changes = [], [], []
    for record in records:
        change = stream.change(record)
        if change is None:
            continue
        derived = events.events_for_change(change.old, change.new, change.record_id)
        if change.correlation_id:
            derived = [dataclasses.replace(e, correlation_id=change.correlation_id) for e in derived]
        found += derived
        tallies += counters.tallies(change.old, change.new, change.changed_at)
        if isinstance(change.new, OrderRecord):
            order_changes.append(change)
    for tally in tallies:
        reports.apply(tally)
    for change in order_changes:
        crm.record_order_change(change.old, change.new, change.changed_at)
        if change.new.status == "paid" and not (change.old and change.old.status == "paid"):
            gift_cards.issue_for_order(change.new)  # once per card; each card's email follows from the stream
            if not ships_goods(change.new):  # gift cards only: issuing them was the delivery
                orders.mark_delivered_without_shipping(change.new.id)
    publishing.publish(found)
    catalogue_views.note_changes(records)
    return len(found)
