"""The table's stream, read back as domain models: this module owns which key layout stands for
which model, so the relay and the pure rules after it (events.py, counters.py) never see `PK`, `SK`
or index attributes.

| item (SK) | model                  |
| --------- | ---------------------- |
| ORDER     | models.orders.OrderRecord |
| SKU       | models.SkuRecord       |
| CART      | models.CartRecord      |
| STATS     | models.crm.CustomerStats (a customer's figures, repository/crm.py) |
| MESSAGE#… | models.crm.MessageRecord (customer service, repository/messages.py) |
| GIFTCARD  | models.balances.GiftCardRecord (repository/gift_cards.py) |
| INVOICE   | models.invoices.InvoiceRecord (repository/invoices.py) |
| QUOTE     | models.quotes.QuoteRecord (repository/quotes.py) |
| PURCHASE_REQUEST#… | models.companies.PurchaseRequest (B2B approval, repository/purchase_requests.py) |
| RETURN    | models.returns.ReturnRecord (repository/returns.py) |

Other items (events applied, deliveries, counters...) are not changes anyone listens to: None.
"""

from dataclasses import dataclass
from datetime import UTC, datetime

from chalicelib import clock
from chalicelib.models import CartRecord, Record, SkuRecord
from chalicelib.models.balances import GiftCardRecord
from chalicelib.models.companies import PurchaseRequest
from chalicelib.models.crm import CustomerStats, MessageRecord
from chalicelib.models.invoices import InvoiceRecord
from chalicelib.models.orders import OrderRecord
from chalicelib.models.quotes import QuoteRecord
from chalicelib.models.returns import ReturnRecord
from chalicelib.repository import dynamo

KEYS = {"PK", "SK"}
MODELS: dict[str, type[Record]] = {"ORDER": OrderRecord, "SKU": SkuRecord, "CART": CartRecord,
                                   "STATS": CustomerStats, "GIFTCARD": GiftCardRecord, "INVOICE": InvoiceRecord,
                                   "QUOTE": QuoteRecord, "RETURN": ReturnRecord}
PREFIXES: dict[str, type[Record]] = {"MESSAGE#": MessageRecord, "PURCHASE_REQUEST#": PurchaseRequest}


@dataclass(frozen=True)
class Change:
    """One committed change of an item: its images before and after (None when it did not exist)."""

    old: Record | None
    new: Record | None
    record_id: str          # the stream record's eventID, the same on every delivery of it
    changed_at: datetime    # when it was committed (ApproximateCreationDateTime)
    correlation_id: str | None = None  # of the request that made it


def images(old: dict | None, new: dict | None) -> tuple[Record | None, Record | None]:
    """The domain models of an item's images (plain dicts, keys and all); (None, None) for an item
    that is no model's."""
    sk = (new or old or {}).get("SK") or ""
    model = MODELS.get(sk) or next((m for prefix, m in PREFIXES.items() if sk.startswith(prefix)), None)
    if model is None:
        return None, None
    return _model(model, old), _model(model, new)


def _model(model: type[Record], image: dict | None) -> Record | None:
    # An image of nothing but the item's keys (a KEYS_ONLY view, or a removal) holds no state.
    if not image or set(image) <= KEYS:
        return None
    return model.model_validate(image)


def change(record: dict) -> Change | None:
    """One DynamoDB stream record (Lambda's shape: images in DynamoDB JSON) as a Change, or None
    when the item is no model's."""
    found = record.get("dynamodb", {})
    old, new = dynamo.from_item(found.get("OldImage")), dynamo.from_item(found.get("NewImage"))
    old_model, new_model = images(old, new)
    if old_model is None and new_model is None:
        return None
    created = found.get("ApproximateCreationDateTime")
    changed_at = datetime.fromtimestamp(float(created), UTC) if created is not None else clock.now()
    return Change(old_model, new_model, record.get("eventID", ""), changed_at, (new or {}).get("correlation_id"))
