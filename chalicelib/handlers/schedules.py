"""Scheduled functions (the event pump fires them locally)."""

from chalice import Blueprint, Rate

from chalicelib.services import (
    abandoned_carts,
    catalogue_views,
    crm,
    gift_cards,
    invoices,
    messages,
    orders,
    orphan_payments,
    sales,
)

bp = Blueprint(__name__)


@bp.schedule(Rate(5, unit=Rate.MINUTES))
def expire_unpaid_orders(event):
    return {"cancelled": orders.expire_unpaid()}


@bp.schedule(Rate(5, unit=Rate.MINUTES))
def reconcile_payments(event):
    """Settle unpaid orders whose webhooks never came, by asking the provider (services/orders.py)."""
    return orders.reconcile_payments()


@bp.schedule(Rate(1, unit=Rate.HOURS))
def sweep_orphan_payments(event):
    """Cancel the PaymentIntents no order was written with, once Stripe's 24 h idempotency window is over;
    report one that succeeded without an order (services/orphan_payments.py)."""
    return orphan_payments.sweep()


@bp.schedule(Rate(15, unit=Rate.MINUTES))
def sweep_abandoned_carts(event):
    return {"reminded": abandoned_carts.sweep()}


@bp.schedule(Rate(1, unit=Rate.MINUTES))
def refresh_catalogue_views(event):
    """Rebuild the search index and the feeds into S3 when the relay marked them stale (one GetItem
    otherwise): an edit is searchable within about a minute."""
    return catalogue_views.refresh()


@bp.schedule(Rate(1, unit=Rate.HOURS))
def sweep_customers(event):
    """Customers whose last order just became 60 / 120 days old move to at_risk / lapsed; the lapsed
    who consent get a win-back code (services/crm.py). Hourly: a day's buckets are read once, on its
    first run."""
    return crm.sweep()


@bp.schedule(Rate(5, unit=Rate.MINUTES))
def measure_open_threads(event):
    """The age of the oldest open customer service thread as a metric (alarmed in infra/deploy.yaml)."""
    return {"oldest_open_seconds": messages.measure_oldest_open()}


@bp.schedule(Rate(5, unit=Rate.MINUTES))
def release_gift_cards(event):
    """Gift cards bought to be sent on a date go out within five minutes of it (services/gift_cards.py)."""
    return {"released": gift_cards.release_due()}


@bp.schedule(Rate(1, unit=Rate.HOURS))
def remind_overdue_invoices(event):
    """Open invoices past their due date get a reminder email (at once, then every INVOICE_REMINDER_DAYS)."""
    return {"reminded": invoices.remind_overdue()}


@bp.schedule(Rate(1, unit=Rate.MINUTES))
def apply_sales(event):
    """Start the sales due to start and end those due to end (services/sales.py): prices change within
    a minute of a sale's start and end. Idempotent; one Query per edge when nothing is due."""
    return sales.run()
