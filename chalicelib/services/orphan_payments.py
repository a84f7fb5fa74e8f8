"""PaymentIntents left without an order: cancelled once no checkout can find them again.

Checkout creates the order's PaymentIntent before it writes the order (services/checkout.py), under the
key `<order id>:<amount><currency>:create-payment`. When that write then fails for good (out of stock, a
gift card spent meanwhile, a cart that changed), the PaymentIntent stays at Stripe, unconfirmed, with no
order. Cancelling it right then would be unsafe: a concurrent checkout of the same cart version may have
written the order with the same PaymentIntent (same key), and Stripe answers a repeated creation with it
for 24 hours. Past ORPHAN_PAYMENT_AGE_HOURS (25) no checkout can be handed it any more, so what no order
refers to by then never will be.

The hourly `sweep` lists the PaymentIntents created before now − ORPHAN_PAYMENT_AGE_HOURS (Stripe's list,
`created[gte]`/`created[lt]`, 100 a page) and takes those the backend made (their metadata's `order_id`):

- still unpaid (requires_payment_method / requires_confirmation / requires_action) and whose order does
  not exist (one BatchGetItem of the page's order ids, keys only): cancelled, reason `abandoned`, with the
  idempotency key `<payment id>:cancel-orphan`. The same for one whose order was written with another
  PaymentIntent (`superseded`: a checkout retried at another amount, after a gift card was spent meanwhile,
  creates a second one under another key; nobody was ever handed the first's client secret). One its order
  refers to (as its payment or as the payment recorded paid) is never touched: the order's own flows handle
  it (the expiry cancels it, the webhook or the reconciliation marks the order paid).
- succeeded without an order: money without an order. Never cancelled (it cannot be); logged as an error
  with its id and amount and counted in the `OrphanPaymentsSucceeded` metric, whose alarm
  (`commerce-<stage>-payment-without-order`, infra/deploy.yaml) notifies the alarm topic: a person refunds
  it or makes the order by hand.

Progress is one item (repository/orders.py `orphan_sweep_position`): a pass covers the PaymentIntents
created in `[start, end)`, `end` being the age limit when the pass began, and remembers the last one dealt
with (`after`: Stripe's `starting_after` cursor). A run goes on from there for at most MAX_PAGES pages and
TIME_BUDGET_SECONDS and records how far it got; once a pass is done the next one starts at its `end`. The
first run looks FIRST_LOOKBACK back. So every PaymentIntent is looked at once whatever the backlog, and a
run that stops (the budget, Stripe or DynamoDB unavailable, a timeout before it recorded its progress) is
safe to repeat: a cancelled PaymentIntent is no longer unpaid, the rest are looked at again.
"""

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from chalicelib import clock, config, observability, payments
from chalicelib.errors import ResourceMissing, UpstreamUnavailable
from chalicelib.repository import orders
from chalicelib.services import checkout

log = logging.getLogger(__name__)

PAGE = 100
MAX_PAGES = 20
TIME_BUDGET_SECONDS = 40.0  # the function may run 60 s (.chalice/config.json)
FIRST_LOOKBACK = timedelta(days=7)
UNPAID = frozenset({"requires_payment_method", "requires_confirmation", "requires_action"})
CANCELLATION_REASON = "abandoned"


@dataclass
class _Run:
    after: str | None  # the last PaymentIntent dealt with
    counts: dict = field(default_factory=lambda: {"listed": 0, "cancelled": 0, "with_order": 0, "superseded": 0,
                                                  "succeeded_without_order": 0, "left": 0})
    stopped: str | None = None  # why the run stopped before the end of the pass


def sweep(now: datetime | None = None, max_pages: int = MAX_PAGES,
          budget_seconds: float = TIME_BUDGET_SECONDS) -> dict:
    """Cancel the backend's unpaid PaymentIntents older than ORPHAN_PAYMENT_AGE_HOURS that no order exists
    for, and report the succeeded ones without an order; at most `max_pages` pages and `budget_seconds` a
    run. Returns the counts (`listed`, `cancelled`, of them `superseded`, `with_order`,
    `succeeded_without_order`, `left`: an
    orphan still processing) and whether the pass is `done`."""
    now = now or clock.now()
    horizon = int((now - timedelta(hours=config.settings().orphan_payment_age_hours)).timestamp())
    position = orders.orphan_sweep_position()
    version = position["version"] if position else 0
    if position and position["open"]:  # a pass a run left unfinished
        start, end, after = position["start"], position["end"], position["after"]
    else:
        start = position["end"] if position else horizon - int(FIRST_LOOKBACK.total_seconds())
        end, after = max(horizon, start), None  # a longer ORPHAN_PAYMENT_AGE_HOURS never moves it back
    run = _Run(after)
    if start < end:
        _work(run, start, end, max_pages, time.monotonic() + budget_seconds)
    if run.stopped is None:
        orders.save_orphan_sweep_position(end, end, None, False, version)
    else:
        orders.save_orphan_sweep_position(start, end, run.after, True, version)
    counts = run.counts
    log.info("orphan payments sweep of %s to %s: %d listed, %d cancelled (%d superseded), %d with an order, "
             "%d succeeded without an order, %d left; %s", clock.iso(datetime.fromtimestamp(start, UTC)),
             clock.iso(datetime.fromtimestamp(end, UTC)), counts["listed"], counts["cancelled"],
             counts["superseded"], counts["with_order"], counts["succeeded_without_order"], counts["left"],
             "done" if run.stopped is None else f"stopped ({run.stopped}), the next run goes on")
    if counts["succeeded_without_order"]:
        observability.metric("OrphanPaymentsSucceeded", counts["succeeded_without_order"])
    return counts | {"done": run.stopped is None}


def _work(run: _Run, start: int, end: int, max_pages: int, deadline: float) -> None:
    """Deal with the PaymentIntents created in `[start, end)` after `run.after`, page by page."""
    provider = payments.provider(checkout.PROVIDER)
    pages = 0
    while True:
        if pages >= max_pages or time.monotonic() > deadline:
            run.stopped = "budget"
            return
        try:
            intents, more = provider.list_payments(start, end, PAGE, run.after)
            pages += 1
            # Stripe filters by `created`; a listing that did not is filtered here.
            mine = [i for i in intents if start <= i["created"] < end]
            run.counts["listed"] += len(mine)
            ours = [i for i in mine if (i["order_id"] or "").startswith("ord_")
                    and (i["status"] in UNPAID or i["status"] == "succeeded")]
            known = orders.payments_of([i["order_id"] for i in ours])
            candidates = {i["id"] for i in ours}
            for intent in intents:
                if intent["id"] in candidates:
                    _deal_with(run, provider, intent, known.get(intent["order_id"]))
                run.after = intent["id"]
        except UpstreamUnavailable:
            log.warning("orphan payments sweep: Stripe or the table is unavailable; the next run goes on")
            run.stopped = "unavailable"
            return
        if not (more and intents):
            return


def _deal_with(run: _Run, provider, intent: dict, order_payments: set[str] | None) -> None:
    """`order_payments`: the payment ids its order refers to; None when the order does not exist."""
    if order_payments is not None and (intent["id"] in order_payments or intent["status"] not in UNPAID):
        run.counts["with_order"] += 1
        return
    if order_payments is not None:  # unpaid, and its order was written with another PaymentIntent
        run.counts["superseded"] += 1
    state = intent
    if intent["status"] in UNPAID:
        try:
            state = provider.cancel_payment(intent["id"], idempotency_key=f"{intent['id']}:cancel-orphan",
                                            reason=CANCELLATION_REASON)
        except ResourceMissing:
            return  # gone at the provider: it can take nothing
    if state["status"] == "canceled":
        run.counts["cancelled"] += 1
        log.info("payment %s of order %s (never written) cancelled: %d %s, abandoned", intent["id"],
                 intent["order_id"], intent["amount"], intent["currency"])
    elif state["status"] == "succeeded":  # it may have succeeded between the listing and the cancel
        run.counts["succeeded_without_order"] += 1
        log.error("payment %s succeeded (%d %s received) but its order %s does not exist: money without an order; "
                  "refund it at Stripe or make the order by hand", intent["id"], state["amount_received"],
                  intent["currency"], intent["order_id"])
    else:  # processing: money may still come; the webhook or a person sees to it
        run.counts["left"] += 1
        log.warning("payment %s of order %s (never written) is %s: not cancelled", intent["id"],
                    intent["order_id"], state["status"])
