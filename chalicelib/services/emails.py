"""Emails: which events become which email, their rendering, and sending each once per event (twice
only if a worker dies between SES's answer and our record of it; see repository/deliveries.py).

The customer is told about OrderPaid (the confirmation, with the link to the order page),
ShipmentCreated, RefundCreated, OrderCancelled, each step of a return (Return*), GiftCardIssued (to
the card's recipient), CartAbandoned (the reminder, with a signed link that restores the cart:
chalicelib/cart_links.py), WinBackOffered (a lapsed customer's personal code, marketing, like
CartAbandoned: see MARKETING) and MessageReplied (the shop's answer to a message about an order); the
shop owner (SHOP_EMAIL) about OrderNeedsReview and StockLow. Other event types send nothing.
Templates are Jinja2 files in `chalicelib/templates/` (`<name>.html` autoescaped, `<name>.txt`
plain), rendered with the shop's name and storefront URL from config. Mail goes through SES v2 from
EMAIL_SENDER, which SES (and moto) only accepts once that address or its domain is a verified
identity. With OUTBOX_DIR set (the local stack), each sent message is also written there as an
`.eml` file.

Jinja2 and the SES client are loaded on first use: the API function shares this code and must not
pay for them at cold start.
"""

import re
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote, urlencode

from chalicelib import cart_links, clock, config, minor_units
from chalicelib.repository import deliveries

CHANNEL = "email"
TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"

SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}
TRACKING_URLS = {
    "dhl": "https://www.dhl.com/global-en/home/tracking/tracking-parcel.html?submit=1&tracking-id={number}",
    "ups": "https://www.ups.com/track?tracknum={number}",
    "fedex": "https://www.fedex.com/fedextrack/?trknbr={number}",
    "usps": "https://tools.usps.com/go/TrackConfirmAction?tLabels={number}",
    "dpd": "https://tracking.dpd.de/status/en_US/parcel/{number}",
}
# Event type → (template, subject, whether it goes to the shop owner rather than the customer).
TEMPLATES = {
    "OrderPaid": ("order_paid", "{shop}: Your order {order} is confirmed", False),
    "ShipmentCreated": ("shipment_created", "{shop}: Your order {order} is on its way", False),
    "RefundCreated": ("refund_created", "{shop}: A refund for your order {order}", False),
    "OrderCancelled": ("order_cancelled", "{shop}: Your order {order} was cancelled", False),
    "OrderNeedsReview": ("order_needs_review", "[{shop}] Order {order} needs review", True),
    "PaymentDuplicateRefunded": ("payment_duplicate_refunded", "[{shop}] Order {order} was paid twice; refunded",
                                 True),
    "StockLow": ("stock_low", "[{shop}] Low stock: {sku}", True),
    "CartAbandoned": ("cart_abandoned", "{shop}: Your cart is waiting for you", False),
    "WinBackOffered": ("winback_offered", "{shop}: We miss you - {percent} % off your next order", False),
    "MessageReplied": ("message_replied", "{shop}: A reply about your order {order}", False),
    "GiftCardIssued": ("gift_card_issued", "{shop}: A gift card for you", False),
    "InvoiceIssued": ("invoice_issued", "{shop}: Invoice {number}", False),
    "InvoiceReminder": ("invoice_reminder", "{shop}: Reminder - invoice {number} is overdue", False),
    "QuoteRequested": ("quote_requested", "[{shop}] Quote requested: {quote}", True),
    "QuoteAnswered": ("quote_answered", "{shop}: Your quote {quote} is ready", False),
    "PurchaseRequested": ("purchase_requested", "{shop}: A purchase request to approve", False),
    "PurchaseRequestApproved": ("purchase_request_decided", "{shop}: Your purchase request was approved", False),
    "PurchaseRequestRejected": ("purchase_request_decided", "{shop}: Your purchase request was rejected", False),
    # A return at each step (events.return_events): one template, worded by the return's status.
    "ReturnRequested": ("return_changed", "{shop}: Your return request for order {order}", False),
    "ReturnApproved": ("return_changed", "{shop}: Return {number} approved - how to send it back", False),
    "ReturnRejected": ("return_changed", "{shop}: About your return request for order {order}", False),
    "ReturnReceived": ("return_changed", "{shop}: Return {number} received", False),
    "ReturnRefunded": ("return_changed", "{shop}: Return {number} settled", False),
}


# Marketing email: sent only with the recipient's consent (checked when it is sent), always with the one-click
# unsubscribe link (chalicelib/unsubscribe.py) in the body and the List-Unsubscribe headers.
MARKETING = {"CartAbandoned", "WinBackOffered"}


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    html: str
    text: str
    headers: tuple[tuple[str, str], ...] = ()
    attachments: tuple[tuple[str, bytes, str], ...] = ()  # (file name, bytes, content type)


def deliver(event: dict) -> bool:
    """Send the email `event` stands for, once per event id: returns False when the event sends no
    email or its email was sent already. A failing send raises (the message is retried, then
    dead-lettered); so does DeliveryInProgress while a concurrent delivery of it holds the claim."""
    email = render(event)
    if email is None:
        return False
    if event["type"] in MARKETING and not _consents(email.to):
        return False  # no consent, or unsubscribed since the event: nothing is sent, nothing recorded
    return deliveries.once(CHANNEL, event["id"], lambda: {"message_id": send(email, event["id"]),
                                                          **_about_order(event, email)})


def sent_about(order_id: str) -> list[dict]:
    """The emails sent about an order, oldest first: {event_id, type, subject, to, sent_at}."""
    return deliveries.order_emails(order_id)


def _about_order(event: dict, email: Email) -> dict:
    """What an order's email leaves on its delivery record for the order's timeline (the back office's
    `GET /admin/orders/{id}/emails`, repository/deliveries.py `order_emails`); nothing for other emails."""
    data = event.get("data") or {}
    order_id = (data.get("order") or {}).get("id") or data.get("order_id")
    if not isinstance(order_id, str):
        return {}
    return deliveries.order_email(order_id, event["id"], event["type"], email.subject, email.to)


def money(amount: int, currency: str) -> str:
    """Minor units as the customer reads them: money(2494, "EUR") == "€24.94"."""
    major = minor_units.to_major(amount, currency)
    symbol = SYMBOLS.get(currency)
    return f"{symbol}{major}" if symbol else f"{major} {currency}"


def tracking_url(carrier: str, number: str) -> str | None:
    """The carrier's tracking page for `number`, or None for a carrier we do not know."""
    name = re.sub(r"[^a-z]", "", carrier.lower())
    template = next((url for key, url in TRACKING_URLS.items() if name.startswith(key)), None)
    return template.format(number=quote(number, safe="")) if template else None


def order_url(order_id: str, token: str | None) -> str | None:
    if not token:
        return None
    return f"{config.settings().storefront_url.rstrip('/')}/order.html?{urlencode({'id': order_id, 'token': token})}"


def pay_url(order_id: str, token: str | None) -> str | None:
    """The storefront's page that pays an order waiting for its payment (e.g. a dearer exchange's difference)."""
    if not token:
        return None
    return f"{config.settings().storefront_url.rstrip('/')}/pay.html?{urlencode({'id': order_id, 'token': token})}"


def render(event: dict) -> Email | None:
    """The email for `event`, or None for a type that sends none. Raises on a malformed event."""
    kind = event["type"]
    if kind not in TEMPLATES:
        return None
    template, subject, to_owner = TEMPLATES[kind]
    data = event["data"]
    settings = config.settings()
    if kind in ("StockLow", "CartAbandoned"):
        return _render_other(event, template, subject.format(shop=settings.shop_name, sku=data.get("sku")), to_owner)
    if kind in ("WinBackOffered", "MessageReplied") or kind.startswith("Return"):
        return _render_customer(event, template, subject)
    if kind == "GiftCardIssued":
        return _render_gift_card(event, template, subject.format(shop=settings.shop_name))
    if kind in ("InvoiceIssued", "InvoiceReminder", "QuoteRequested", "QuoteAnswered"):
        from chalicelib.services import quote_emails  # it builds on this module

        return quote_emails.render(event, template, subject)
    if kind.startswith("PurchaseRequest"):
        return _render_purchase_request(event, template, subject.format(shop=settings.shop_name))
    order = data["order"]  # every field of the order as the shop sees it (events.py)
    context = {"shop_name": settings.shop_name, "storefront_url": settings.storefront_url, "order": order,
               "currency": order["currency"], "order_url": order_url(order["id"], data.get("order_token"))}
    if kind == "ShipmentCreated":
        shipment = data["shipment"]
        context |= {"shipment": shipment, "titles": {line["sku"]: line["title"] for line in order["lines"]},
                    "tracking_url": tracking_url(shipment["carrier"], shipment["tracking_number"])}
    elif kind == "RefundCreated":
        context |= {"amount": data["amount"]}
    elif kind == "OrderCancelled":
        # A cancelled order has no live card: its issued cards were voided with the cancel (or it refused).
        context |= {"gift_cards": any(line.get("gift_card") for line in order["lines"])}
    elif kind == "PaymentDuplicateRefunded":
        context |= {"duplicate": data["duplicate"]}
    environment = _templates()
    return Email(to=settings.shop_email if to_owner else order["email"],
                 subject=subject.format(shop=settings.shop_name, order=order["id"]),
                 html=environment.get_template(f"{template}.html").render(context),
                 text=environment.get_template(f"{template}.txt").render(context))


def _render_other(event: dict, template: str, subject: str, to_owner: bool) -> Email:
    """The emails that are not about an order: StockLow (to the shop) and CartAbandoned."""
    settings = config.settings()
    data = event["data"]
    context = {"shop_name": settings.shop_name, "storefront_url": settings.storefront_url}
    if event["type"] == "StockLow":
        context |= {"stock": data}
        to = settings.shop_email
    else:
        cart = data["cart"]
        sent_at = datetime.fromisoformat(event["occurred_at"].replace("Z", "+00:00"))
        # The same link however often this reminder is rendered (a retried send).
        context |= {"cart": cart, "currency": cart["currency"], "link_days": settings.cart_link_days,
                    "restore_url": cart_links.restore_url(cart["id"], sent_at)}
        to = settings.shop_email if to_owner else cart["email"]
    headers: tuple[tuple[str, str], ...] = ()
    if event["type"] in MARKETING:
        extra, headers = marketing_parts(to)
        context |= extra
    environment = _templates()
    return Email(to=to, subject=subject, html=environment.get_template(f"{template}.html").render(context),
                 text=environment.get_template(f"{template}.txt").render(context), headers=headers)


def _render_gift_card(event: dict, template: str, subject: str) -> Email:
    """The recipient's gift card, with its code made again from the card's seed (chalicelib/gift_codes.py)."""
    from chalicelib import gift_codes

    settings = config.settings()
    card = event["data"]["gift_card"]
    context = {"shop_name": settings.shop_name, "storefront_url": settings.storefront_url, "card": card,
               "code": gift_codes.code_for(card["seed"])}
    environment = _templates()
    return Email(to=card["recipient_email"], subject=subject,
                 html=environment.get_template(f"{template}.html").render(context),
                 text=environment.get_template(f"{template}.txt").render(context))


def _consents(address: str) -> bool:
    from chalicelib.models.customers import customer_id_for
    from chalicelib.repository import customers

    return customers.marketing_consent(customer_id_for(address))


def marketing_parts(address: str) -> tuple[dict, tuple[tuple[str, str], ...]]:
    """What every marketing email to `address` carries: `unsubscribe_url` for its body, and the
    List-Unsubscribe / List-Unsubscribe-Post headers (one click, RFC 8058)."""
    from chalicelib import unsubscribe
    from chalicelib.models.customers import customer_id_for

    customer_id = customer_id_for(address)
    return ({"unsubscribe_url": unsubscribe.page_link(customer_id)},
            tuple(unsubscribe.headers(customer_id).items()))


def _render_customer(event: dict, template: str, subject: str) -> Email:
    """The customer's emails of the CRM: WinBackOffered (marketing: with the unsubscribe link) and
    MessageReplied (the shop's answer, with the link to the order page)."""
    settings = config.settings()
    data = event["data"]
    context = {"shop_name": settings.shop_name, "storefront_url": settings.storefront_url}
    headers: tuple[tuple[str, str], ...] = ()
    if event["type"] == "WinBackOffered":
        to, offer = data["customer"]["email"], data["winback"]
        extra, headers = marketing_parts(to)
        context |= {"winback": offer, "ends_on": offer["ends_at"][:10], **extra}
        subject = subject.format(shop=settings.shop_name, percent=offer["percent"])
    elif "return" in data:
        ret = data["return"]
        to = data["to"]
        exchange = data.get("exchange")
        context |= {"ret": ret, "currency": data["currency"],
                    "order_url": order_url(ret["order_id"], data.get("order_token")),
                    "amount_due": exchange["amount_due"] if exchange else 0,
                    "pay_url": pay_url(exchange["order_id"], exchange["order_token"]) if exchange else None,
                    "pay_hours": settings.exchange_payment_window_hours}
        subject = subject.format(shop=settings.shop_name, order=ret["order_id"], number=ret["number"])
    else:
        to = data["to"]
        context |= {"order_id": data["order_id"], "message": data["message"],
                    "order_url": order_url(data["order_id"], data.get("order_token"))}
        subject = subject.format(shop=settings.shop_name, order=data["order_id"])
    environment = _templates()
    return Email(to=to, subject=subject, html=environment.get_template(f"{template}.html").render(context),
                 text=environment.get_template(f"{template}.txt").render(context), headers=headers)


def _render_purchase_request(event: dict, template: str, subject: str) -> Email:
    """B2B approval: the request to each approver, the decision to the buyer (`data.to`)."""
    settings = config.settings()
    request = event["data"]["request"]
    context = {"shop_name": settings.shop_name, "storefront_url": settings.storefront_url, "request": request,
               "total": request["total"]}
    environment = _templates()
    return Email(to=event["data"]["to"], subject=subject,
                 html=environment.get_template(f"{template}.html").render(context),
                 text=environment.get_template(f"{template}.txt").render(context))


@lru_cache(maxsize=1)
def _templates():
    import jinja2

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATE_DIR),
        # Customer-entered names and addresses end up in the HTML part: escape everything there.
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default_for_string=True),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    environment.filters["money"] = money
    return environment


def sender() -> str:
    from email.utils import formataddr

    settings = config.settings()
    return formataddr((settings.shop_name, settings.email_sender))


@lru_cache(maxsize=1)
def _ses():
    import boto3
    from botocore.config import Config

    return boto3.client("sesv2", config=Config(retries={"mode": "standard", "max_attempts": 3},
                                               connect_timeout=5, read_timeout=10))


def send(email: Email, event_id: str) -> str:
    """Send through SES v2 and return its message id; with OUTBOX_DIR set, also write the message
    there. Raises botocore's errors (throttling, an unverified sender...) unchanged."""
    if email.attachments:  # a MIME message of our own: SES's simple content carries no attachments
        answer = _ses().send_email(FromEmailAddress=sender(), Destination={"ToAddresses": [email.to]},
                                   Content={"Raw": {"Data": bytes(mime(email, event_id))}}, EmailTags=_tags(event_id))
    else:
        answer = _simple(email, event_id)
    message_id = answer["MessageId"]
    if config.settings().outbox_dir:
        write_outbox(email, event_id, message_id, Path(config.settings().outbox_dir))
    return message_id


def _simple(email: Email, event_id: str) -> dict:
    return _ses().send_email(
        FromEmailAddress=sender(), Destination={"ToAddresses": [email.to]},
        Content={"Simple": {"Subject": {"Data": email.subject, "Charset": "UTF-8"},
                            "Body": {"Text": {"Data": email.text, "Charset": "UTF-8"},
                                     "Html": {"Data": email.html, "Charset": "UTF-8"}},
                            **({"Headers": [{"Name": n, "Value": v} for n, v in email.headers]}
                               if email.headers else {})}},
        EmailTags=_tags(event_id))


def _tags(event_id: str) -> list[dict]:
    return [{"Name": "event", "Value": re.sub(r"[^A-Za-z0-9_-]", "_", event_id)[:256]}]


def mime(email: Email, event_id: str):
    """`email` as a MIME message (text and HTML parts, then its attachments)."""
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"] = sender()
    message["To"] = email.to
    message["Subject"] = email.subject
    message["X-Event-Id"] = event_id
    for name, value in email.headers:
        message[name] = value
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    for filename, body, content_type in email.attachments:
        main, sub = content_type.split("/")
        message.add_attachment(body, maintype=main, subtype=sub, filename=filename)
    return message


def write_outbox(email: Email, event_id: str, message_id: str, folder: Path) -> Path:
    """Write `email` as `<timestamp>-<event id>.eml` (text and HTML parts, attachments) into `folder`."""
    from email.utils import format_datetime

    now = clock.now()
    message = mime(email, event_id)
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<{message_id}@outbox.local>"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{now.strftime('%Y%m%dT%H%M%SZ')}-{re.sub(r'[^A-Za-z0-9._-]', '_', event_id)}.eml"
    partial = path.with_suffix(".eml.part")
    partial.write_bytes(bytes(message))
    partial.replace(path)  # readers of the folder never see half a message
    return path
