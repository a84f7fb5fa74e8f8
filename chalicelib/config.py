"""Configuration: the only reader of os.environ.

Plain settings come from environment variables (set per stage in `.chalice/config.json`, or by the
local stack). Secrets never do in a deployed stage: a secret `X` is read from the SSM parameter
named by `X_PARAM` (fetched lazily, cached per container for `SECRETS_TTL_SECONDS`, so a rotated
secret is picked up without a redeploy). Only when no `X_PARAM` is set is the plain variable `X`
used, which is how tests inject a secret directly.
"""

import json
import os
import re
import time
from dataclasses import dataclass, field
from functools import lru_cache

from chalicelib.models.pricing import PricingContext, Promotion, ShippingRate

DEFAULT_SHIPPING_METHODS = [
    {"id": "standard", "title": "Standard (3-5 days)", "price": {"EUR": 495, "USD": 595, "GBP": 450},
     "free_over": {"EUR": 5000, "USD": 7500, "GBP": 5000}},
    {"id": "express", "title": "Express (next day)", "price": {"EUR": 1295, "USD": 1495, "GBP": 1195}},
]
DEFAULT_TAX_RATES = {"AT": 2000, "BE": 2100, "DE": 1900, "ES": 2100, "FR": 2000, "GB": 2000, "IE": 2300,
                     "IT": 2200, "NL": 2100, "US": 0}


def _json(name: str, default):
    raw = os.environ.get(name)
    return json.loads(raw) if raw else default


def _csv(name: str, default: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in os.environ.get(name, default).split(",") if part.strip())


@dataclass(frozen=True)
class Settings:
    stage: str
    table_name: str
    table_stream_arn: str
    fulfilment_queue_url: str
    email_queue_url: str
    currencies: tuple[str, ...]
    default_currency: str
    # Shipping methods, tax rates (basis points per destination country, 1900 = 19 %; prices are
    # tax-exclusive) and automatic buy-X-get-Y promotions, typed (models/pricing.py).
    pricing: PricingContext = field(hash=False)
    cart_ttl_days: int
    payment_window_minutes: int
    stripe_api_base: str
    stripe_publishable_key: str
    shop_name: str
    storefront_url: str
    email_sender: str
    shop_email: str
    # SQS consumers: the queue names are read when the app is imported (Chalice's decorators are
    # evaluated then), so `chalice package` must run with the stage's names in its environment.
    fulfilment_queue_name: str
    email_queue_name: str
    # A folder where the email consumer also writes each sent message as an .eml file (local stack).
    outbox_dir: str
    fulfilment_provider: str
    fulfilment_webhook_url: str
    fulfilment_webhook_timeout: float
    # The storefront origin allowed by CORS (one origin: all that API Gateway's preflight answer carries).
    cors_allow_origin: str
    # The back office's origin (admin/), also allowed by CORS: answers to a request from it carry
    # it instead of the storefront's (see rendering.allowed_origin).
    admin_origin: str
    # Abandoned carts: idle this long (with an email and lines) gets one reminder; its restore link
    # is valid for cart_link_days.
    abandoned_cart_minutes: int
    cart_link_days: int
    # The catalogue's derived views (search index, feeds) live in this bucket; the API function checks
    # the index's ETag at most every search_refresh_seconds; a feed larger than feed_inline_bytes is
    # answered with a 302 to a presigned URL (API Gateway's payload limit is 6 MB).
    views_bucket: str = ""
    search_refresh_seconds: float = 30.0
    feed_inline_bytes: int = 4_000_000
    # CRM: a customer whose lifetime value in a currency reaches vip_threshold (minor units) is a VIP;
    # a lapsed customer who consents gets one win-back code of winback_percent, valid winback_days.
    vip_threshold: int = 50000
    winback_percent: int = 15
    winback_days: int = 30
    # The API's public base URL (one-click unsubscribe links point at it).
    api_url: str = "http://127.0.0.1:8000"
    # Customer accounts (Cognito): the pool and the storefront's app client whose tokens the customer
    # routes accept; the issuer and JWKS URL follow from them unless set (the local stack points the
    # JWKS at the moto server). No pool configured: every customer route is a 401.
    cognito_user_pool_id: str = ""
    cognito_client_id: str = ""
    cognito_issuer: str = ""
    cognito_jwks_url: str = ""
    jwks_ttl_seconds: int = 3600
    # The reconciliation schedule asks the provider about an unpaid order once it has waited this long
    # for its webhook (the local stack's soak run shortens it to wait one period, not minutes).
    reconcile_after_seconds: int = 120
    # botocore's read timeout for DynamoDB calls: 5 s in AWS (calls take milliseconds); the local stack
    # raises it, since its one moto server queues every call behind one lock on a loaded machine.
    dynamodb_read_timeout_seconds: float = 5.0
    # Gift cards: whether a card may carry an expiry date (some jurisdictions forbid it), how many
    # balance lookups one address may make a minute, and whether a refund of an order paid partly
    # with gift cards or store credit goes back to them first ("balances") or to the card ("provider").
    gift_card_expiry_allowed: bool = True
    gift_card_lookups_per_minute: int = 10
    refund_to: str = "balances"
    # The largest amount the shop issues one gift card for (minor units).
    gift_card_max_amount: int = 100000_00
    # Invoices (pay by invoice): the seller's legal address lines (SHOP_ADDRESS, separated by ";") and VAT id
    # printed on them; the private bucket their PDFs are kept in; links to a PDF (presigned) last
    # invoice_link_seconds. An open invoice past its due date is reminded every invoice_reminder_days; past
    # due + invoice_grace_days its company cannot check out by invoice.
    shop_address: tuple[str, ...] = ()
    shop_vat_id: str = ""
    documents_bucket: str = ""
    invoice_link_seconds: int = 3600
    invoice_reminder_days: int = 7
    invoice_grace_days: int = 14
    # B2B: the country the shop sells from (ISO 3166; its VAT registration). A company with a valid EU VAT id
    # of another member state buys reverse-charged (tax 0) when this is an EU member state.
    shop_country: str = "DE"
    # Staff (the back office): Cognito tokens of this pool and app client whose `cognito:groups` name a
    # role (chalicelib/permissions.py). Unset: the customer pool and client (staff are then users of that
    # pool put in a role group by the owner). A support user's refunds are capped per currency: at
    # support_refund_limits[the order's currency] minor units, else at ["*"]; a currency neither names
    # cannot be refunded by support (SUPPORT_REFUND_LIMIT: a number for every currency, or a JSON map).
    staff_user_pool_id: str = ""
    staff_client_id: str = ""
    staff_issuer: str = ""
    staff_jwks_url: str = ""
    support_refund_limits: dict[str, int] = field(default_factory=lambda: {"*": 5000}, hash=False)
    # A checkout after a price went up (a sale ended) charges what the cart showed if the cart was priced
    # at most this long ago; else it reprices the cart and answers 409 price_changed.
    sale_grace_seconds: int = 600
    # Product images: uploaded by presigned PUT into images_bucket, served from images_base_url (the
    # CloudFront distribution in front of the bucket; default: the bucket's S3 URL).
    images_bucket: str = ""
    images_base_url: str = ""
    # Returns: asked for at most return_window_days after the order's last shipment; settled as store credit,
    # a return is worth return_store_credit_bonus_percent more than its refund would be.
    return_window_days: int = 30
    return_store_credit_bonus_percent: int = 0
    # Where a cheaper exchange's difference goes back: "original" (the order's payment) or "store_credit".
    return_exchange_difference: str = "original"
    # How long a dearer exchange's order waits for the difference (the customer pays from an email) before it
    # expires like an unpaid checkout and the return can be settled again.
    exchange_payment_window_hours: int = 72
    # A PaymentIntent nothing refers to (its order was never written) is cancelled once it is this old: past
    # Stripe's 24 h idempotency window, so no retried checkout can find it again and write an order with it.
    orphan_payment_age_hours: int = 25


@lru_cache(maxsize=1)
def settings() -> Settings:
    currencies = _csv("CURRENCIES", "EUR,USD,GBP")
    return Settings(
        stage=os.environ.get("STAGE", "dev"),
        table_name=os.environ.get("TABLE_NAME", "commerce-dev"),
        table_stream_arn=os.environ.get(
            "TABLE_STREAM_ARN", "arn:aws:dynamodb:us-east-1:123456789012:table/commerce-dev/stream/unset"),
        fulfilment_queue_url=os.environ.get("FULFILMENT_QUEUE_URL", ""),
        email_queue_url=os.environ.get("EMAIL_QUEUE_URL", ""),
        currencies=currencies,
        default_currency=os.environ.get("DEFAULT_CURRENCY", currencies[0]),
        pricing=_pricing(),
        cart_ttl_days=int(os.environ.get("CART_TTL_DAYS", "30")),
        payment_window_minutes=int(os.environ.get("PAYMENT_WINDOW_MINUTES", "30")),
        stripe_api_base=os.environ.get("STRIPE_API_BASE", "https://api.stripe.com"),
        stripe_publishable_key=os.environ.get("STRIPE_PUBLISHABLE_KEY", ""),
        shop_name=os.environ.get("SHOP_NAME", "Demo Shop"),
        storefront_url=os.environ.get("STOREFRONT_URL", "http://127.0.0.1:8080"),
        email_sender=os.environ.get("EMAIL_SENDER", "shop@example.com"),
        shop_email=os.environ.get("SHOP_EMAIL", "owner@example.com"),
        fulfilment_queue_name=_queue_name("FULFILMENT", "fulfilment"),
        email_queue_name=_queue_name("EMAIL", "email"),
        outbox_dir=os.environ.get("OUTBOX_DIR", ""),
        fulfilment_provider=os.environ.get("FULFILMENT_PROVIDER", "manual"),
        fulfilment_webhook_url=os.environ.get("FULFILMENT_WEBHOOK_URL", ""),
        fulfilment_webhook_timeout=float(os.environ.get("FULFILMENT_WEBHOOK_TIMEOUT", "5")),
        cors_allow_origin=os.environ.get("CORS_ALLOW_ORIGIN", ""),
        admin_origin=os.environ.get("ADMIN_ORIGIN", ""),
        abandoned_cart_minutes=int(os.environ.get("ABANDONED_CART_MINUTES", "60")),
        cart_link_days=int(os.environ.get("CART_LINK_DAYS", "7")),
        views_bucket=os.environ.get("VIEWS_BUCKET", f"commerce-{os.environ.get('STAGE', 'dev')}-views"),
        search_refresh_seconds=float(os.environ.get("SEARCH_REFRESH_SECONDS", "30")),
        feed_inline_bytes=int(os.environ.get("FEED_INLINE_BYTES", "4000000")),
        vip_threshold=int(os.environ.get("VIP_THRESHOLD", "50000")),
        winback_percent=int(os.environ.get("WINBACK_PERCENT", "15")),
        winback_days=int(os.environ.get("WINBACK_DAYS", "30")),
        api_url=os.environ.get("API_URL", "http://127.0.0.1:8000"),
        reconcile_after_seconds=int(os.environ.get("RECONCILE_AFTER_SECONDS", "120")),
        dynamodb_read_timeout_seconds=float(os.environ.get("DYNAMODB_READ_TIMEOUT_SECONDS", "5")),
        gift_card_expiry_allowed=os.environ.get("GIFT_CARD_EXPIRY_ALLOWED", "true").lower() in ("1", "true", "yes"),
        gift_card_lookups_per_minute=int(os.environ.get("GIFT_CARD_LOOKUPS_PER_MINUTE", "10")),
        refund_to=os.environ.get("REFUND_TO", "balances"),
        gift_card_max_amount=int(os.environ.get("GIFT_CARD_MAX_AMOUNT", "10000000")),
        shop_address=tuple(p.strip() for p in os.environ.get("SHOP_ADDRESS", "").split(";") if p.strip()),
        shop_vat_id=os.environ.get("SHOP_VAT_ID", ""),
        documents_bucket=os.environ.get("DOCUMENTS_BUCKET", f"commerce-{os.environ.get('STAGE', 'dev')}-documents"),
        invoice_link_seconds=int(os.environ.get("INVOICE_LINK_SECONDS", "3600")),
        invoice_reminder_days=int(os.environ.get("INVOICE_REMINDER_DAYS", "7")),
        invoice_grace_days=int(os.environ.get("INVOICE_GRACE_DAYS", "14")),
        shop_country=os.environ.get("SHOP_COUNTRY", "DE").strip().upper(),
        support_refund_limits=refund_limits(os.environ.get("SUPPORT_REFUND_LIMIT", "5000")),
        sale_grace_seconds=int(os.environ.get("SALE_GRACE_SECONDS", "600")),
        images_bucket=os.environ.get("IMAGES_BUCKET", f"commerce-{os.environ.get('STAGE', 'dev')}-images"),
        images_base_url=os.environ.get("IMAGES_BASE_URL", "").rstrip("/"),
        return_window_days=int(os.environ.get("RETURN_WINDOW_DAYS", "30")),
        return_store_credit_bonus_percent=int(os.environ.get("RETURN_STORE_CREDIT_BONUS_PERCENT", "0")),
        return_exchange_difference=os.environ.get("RETURN_EXCHANGE_DIFFERENCE", "original"),
        exchange_payment_window_hours=int(os.environ.get("EXCHANGE_PAYMENT_WINDOW_HOURS", "72")),
        orphan_payment_age_hours=orphan_payment_age(os.environ.get("ORPHAN_PAYMENT_AGE_HOURS", "25")),
        **_cognito(),
        **_staff_pool(),
    )


def orphan_payment_age(raw: str) -> int:
    """ORPHAN_PAYMENT_AGE_HOURS: whole hours, at least 25 (Stripe replays a PaymentIntent's creation for 24 h: a
    younger one may still be written into an order by a retried checkout). Raises ValueError."""
    try:
        hours = int(raw)
    except ValueError:
        hours = 0
    if hours < 25:
        raise ValueError(f"ORPHAN_PAYMENT_AGE_HOURS must be a whole number of hours, at least 25; not {raw!r}.")
    return hours


def refund_limits(raw: str) -> dict[str, int]:
    """SUPPORT_REFUND_LIMIT: a number (minor units, for every currency) or a JSON object of currency to minor
    units, `"*"` for every other currency (`{"EUR": 5000, "JPY": 800000, "*": 5000}`). Raises ValueError."""
    raw = raw.strip()
    try:
        return {"*": int(raw)}
    except ValueError:
        pass
    try:
        limits = json.loads(raw)
    except ValueError:
        limits = None
    if not (isinstance(limits, dict) and limits and all(
            isinstance(key, str) and (key == "*" or re.fullmatch(r"[A-Za-z]{3}", key.strip()))
            and type(value) is int and value >= 0 for key, value in limits.items())):
        raise ValueError("SUPPORT_REFUND_LIMIT must be a number of minor units or a JSON object of currency codes "
                         f'(and "*" for the others) to minor units, e.g. {{"EUR": 5000, "JPY": 800000}}; not {raw!r}.')
    return {key if key == "*" else key.strip().upper(): value for key, value in limits.items()}


def _pricing() -> PricingContext:
    """SHIPPING_METHODS, TAX_RATES and PROMOTIONS (JSON; PROMOTIONS is a list of
    {"id", "buy_sku", "buy_quantity", "get_sku", "get_quantity"?, "max_free"?})."""
    return PricingContext(
        shipping_methods=tuple(map(ShippingRate.model_validate, _json("SHIPPING_METHODS", DEFAULT_SHIPPING_METHODS))),
        tax_rates={country: int(rate) for country, rate in _json("TAX_RATES", DEFAULT_TAX_RATES).items()},
        promotions=tuple(map(Promotion.model_validate, _json("PROMOTIONS", []))))


def _cognito() -> dict:
    pool = os.environ.get("COGNITO_USER_POOL_ID", "")
    region = pool.split("_", 1)[0] if "_" in pool else os.environ.get("AWS_REGION", "us-east-1")
    issuer = os.environ.get("COGNITO_ISSUER") or (f"https://cognito-idp.{region}.amazonaws.com/{pool}" if pool else "")
    jwks = os.environ.get("COGNITO_JWKS_URL") or (f"{issuer}/.well-known/jwks.json" if issuer else "")
    return {"cognito_user_pool_id": pool, "cognito_client_id": os.environ.get("COGNITO_CLIENT_ID", ""),
            "cognito_issuer": issuer, "cognito_jwks_url": jwks,
            "jwks_ttl_seconds": int(os.environ.get("JWKS_TTL_SECONDS", "3600"))}


def _staff_pool() -> dict:
    pool = os.environ.get("STAFF_USER_POOL_ID") or os.environ.get("COGNITO_USER_POOL_ID", "")
    client = os.environ.get("STAFF_CLIENT_ID") or os.environ.get("COGNITO_CLIENT_ID", "")
    if not os.environ.get("STAFF_USER_POOL_ID"):  # the customer pool: its issuer and JWKS
        customer = _cognito()
        return {"staff_user_pool_id": pool, "staff_client_id": client, "staff_issuer": customer["cognito_issuer"],
                "staff_jwks_url": customer["cognito_jwks_url"]}
    region = pool.split("_", 1)[0] if "_" in pool else os.environ.get("AWS_REGION", "us-east-1")
    issuer = os.environ.get("STAFF_ISSUER") or f"https://cognito-idp.{region}.amazonaws.com/{pool}"
    jwks = os.environ.get("STAFF_JWKS_URL") or f"{issuer}/.well-known/jwks.json"
    return {"staff_user_pool_id": pool, "staff_client_id": client, "staff_issuer": issuer, "staff_jwks_url": jwks}


def _queue_name(prefix: str, queue: str) -> str:
    """`<prefix>_QUEUE_NAME`, else the last path segment of `<prefix>_QUEUE_URL`, else the stage's
    name from the template (`commerce-<stage>-<queue>`)."""
    url = os.environ.get(f"{prefix}_QUEUE_URL", "").rstrip("/")
    return (os.environ.get(f"{prefix}_QUEUE_NAME") or url.rsplit("/", 1)[-1]
            or f"commerce-{os.environ.get('STAGE', 'dev')}-{queue}")


_secret_cache: dict[str, tuple[float, str]] = {}


def secret(name: str) -> str:
    """The secret `name` (e.g. "ADMIN_KEY_HASHES"): from SSM when `<name>_PARAM` is set, else from
    the environment. Cached per container for SECRETS_TTL_SECONDS (default 300)."""
    param = os.environ.get(f"{name}_PARAM")
    if not param:
        return os.environ.get(name, "")
    now = time.monotonic()
    cached = _secret_cache.get(param)
    if cached and now - cached[0] < float(os.environ.get("SECRETS_TTL_SECONDS", "300")):
        return cached[1]
    import boto3  # only containers that read secrets pay for the SSM client

    value = boto3.client("ssm").get_parameter(Name=param, WithDecryption=True)["Parameter"]["Value"]
    _secret_cache[param] = (now, value)
    return value


def secret_list(name: str) -> list[str]:
    """A comma-separated secret (several values during a rotation)."""
    return [part.strip() for part in secret(name).split(",") if part.strip()]


def reset() -> None:
    """Forget cached settings and secrets (tests, and the local stack after it changes them)."""
    settings.cache_clear()
    _secret_cache.clear()
