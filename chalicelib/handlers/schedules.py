"""Scheduled functions (the event pump fires them locally)."""

from chalice import Blueprint, Rate

from chalicelib.services import orders

bp = Blueprint(__name__)


@bp.schedule(Rate(5, unit=Rate.MINUTES))
def expire_unpaid_orders(event):
    return {"cancelled": orders.expire_unpaid()}
