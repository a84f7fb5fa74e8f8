"""Every operation of openapi.json answers hostile input with a 4xx error envelope and changes nothing.

One seeded world (in-process moto, localstripe, a Cognito pool; built once for the module) holds a real
object behind every path id: a product, an open cart with a line and a gift card, a paid order partly
shipped with a return asked, a customer with an address, a company with buyers, a quote, a purchase
request, an invoice, a price list, a discount, a gift card, a category, a collection, a sale, a staff user.
Each operation is called as the role that may call it (the owner's staff token on admin routes, the
customer's or the company approver's token on theirs, the order token on an order's) with:

a) a body that is not JSON; b) a JSON array, or a string, instead of an object;
c) from a valid body (checked against the document's schema), one field at a time: a required field
   missing, a wrong type, null where the schema allows none, a negative or huge (10**30) integer, a
   string past its maxLength and one of 100k characters (the 413), an unknown enum value; one level of
   nesting deep (`lines.0.quantity`, `shipping_address.country`);
d) an unknown id in each path parameter; e) query parameters of the wrong form where the operation has them.

Each must answer a 4xx with `{"error": {"code", "message"}}`; for (a) to (d) the table (a Scan of moto,
test-only) and, on the staff and buyer routes, the Cognito pool are the same before and after. No refused
request writes anything on purpose (audit records are written for successful admin writes only), so nothing
is ignored in the comparison. A few values are "hostile but maybe valid" (a 3,000-character string where the
schema sets no maxLength): those must not be a 5xx, and what they change is put back for the next case.
The webhooks get every body correctly signed, so the parsing behind the signature is what is tested.
"""

import copy
import hashlib
import hmac
import json
import re
import uuid
from datetime import timedelta
from pathlib import Path

import boto3
import pytest
from chalice.test import Client
from moto import mock_aws

from tests.b2b_support import BILLING, accept_invitation
from tests.conftest import ADDRESS, Api, build_world, product_body, reset_clients
from tests.customers_support import UNSUBSCRIBE_SECRET, bearer, create_pool
from tests.orders_support import post_event, stripe_signature
from tests.stripe_support import WEBHOOK_SECRET, configure_stripe
from tests.test_webhooks import paid_event

ROOT = Path(__file__).resolve().parent.parent
SPEC = json.loads((ROOT / "openapi.json").read_text())
SCHEMAS = SPEC["components"]["schemas"]
BANK_SECRET = "bank-sweep-secret"
HUGE = 10**30
MISSING = object()  # a field left out
LONG = "x" * 100_000  # past the 64 KiB body limit: a 413
UNKNOWN = {"product_id": "prod_unknown0000000000000000", "cart_id": "cart_0123456789abcdef0123456789abcdef",
           "order_id": "ord_0123456789abcdef0123456789abcdef", "return_id": "ret_unknown000000000000",
           "customer_id": "cus_unknown000000000000", "address_id": "adr_unknown000000000000",
           "company_id": "co_unknown000000000000", "gift_card_id": "gc_unknown000000000000",
           "invoice_id": "inv_unknown000000000000", "price_list_id": "pl_unknown000000000000",
           "quote_id": "quo_unknown000000000000", "request_id": "pr_unknown000000000000",
           "segment_id": "nosuchsegment", "slug": "no-such-slug", "sku": "NO-SUCH-SKU", "code": "NOSUCHCODE",
           "last4": "0000", "username": "no-such-user"}

# Path ids no object has, of other forms than UNKNOWN's: past DynamoDB's key sizes (2 KiB), with the key
# separator, encoded slashes and dots, unicode.
ODD_IDS = {"3k_chars": "a" * 3000, "key_separator": "x%23SK%23y", "slash": "..%2F..%2Fadmin",
           "unicode": "%C3%A9%F0%9F%98%80"}

# Operations with no input but the caller's credentials (no path id, no query, no body): nothing to send wrong.
# Authentication is tests/test_permissions.py's and tests/test_customer_security.py's job.
SKIPPED = {
    ("GET", "/openapi.json"): "the document itself: no input",
    ("GET", "/feeds/google.xml"): "a feed: no input",
    ("GET", "/feeds/meta.csv"): "a feed: no input",
    ("GET", "/categories"): "the category tree: no input",
    ("GET", "/me"): "no input but the token",
    ("GET", "/me/addresses"): "no input but the token",
    ("GET", "/me/export"): "no input but the token",
    ("DELETE", "/me"): "no input but the token (and erases the account the other cases use)",
    ("GET", "/company"): "no input but the token",
    ("GET", "/admin/segments"): "no input but the token",
    ("GET", "/admin/staff"): "no input but the token",
    ("GET", "/admin/products/export"): "no input but the token",
}
# POST routes whose body is not input: sent bodies are not cases for them.
BODY_IGNORED = {
    ("POST", "/unsubscribe"): "RFC 8058 one-click: the mail client posts `List-Unsubscribe=One-Click`, the token is "
                              "the query's",
}
# Integer fields where a negative value is valid by contract (the schema's minimum says how far).
NEGATIVE_ALLOWED = {("CreditChange", "amount"), ("AdjustmentIn", "delta")}


# --- the seeded world ------------------------------------------------------------------------------


def _ok(answer, status=(200, 201, 202)):
    assert answer.status_code in ((status,) if isinstance(status, int) else status), answer.data
    return answer.data


@pytest.fixture(scope="module")
def world(localstripe):
    with mock_aws(), pytest.MonkeyPatch.context() as env:
        build_world()
        pool = create_pool()
        import requests

        jwks = requests.get(f"{pool.issuer}/.well-known/jwks.json", timeout=5).text
        jwks_path = ROOT / ".pytest_cache" / f"jwks-sweep-{pool.pool_id}.json"
        jwks_path.parent.mkdir(exist_ok=True)
        jwks_path.write_text(jwks)
        env.setenv("COGNITO_USER_POOL_ID", pool.pool_id)
        env.setenv("COGNITO_CLIENT_ID", pool.client_id)
        env.setenv("COGNITO_JWKS_URL", jwks_path.as_uri())
        env.setenv("UNSUBSCRIBE_SECRET", UNSUBSCRIBE_SECRET)
        env.setenv("BANK_WEBHOOK_SECRET", BANK_SECRET)
        env.setenv("CART_LINK_SECRET", "cart-link-sweep-secret")
        configure_stripe(env, localstripe)
        from chalicelib import accounts

        accounts.reset()
        from app import app

        with Client(app, stage_name="test") as test_client:
            yield _seed(Api(test_client), pool)
        accounts.reset()
        jwks_path.unlink(missing_ok=True)
    reset_clients()


def _seed(api: Api, pool) -> dict:
    cognito = boto3.client("cognito-idp")
    for role in ("owner", "manager", "support", "fulfilment"):  # as infra/deploy.yaml creates them
        cognito.create_group(UserPoolId=pool.pool_id, GroupName=role)
    pool.sign_up("owner@staff.example.com")
    cognito.admin_add_user_to_group(UserPoolId=pool.pool_id, Username="owner@staff.example.com", GroupName="owner")
    owner = bearer(pool.sign_in("owner@staff.example.com")["id"]) | {"Content-Type": "application/json"}

    product = _ok(api.post("/admin/products", {**product_body(on_hand=100), "categories": []}, headers=owner))
    _ok(api.post("/admin/categories", {"slug": "tees", "title": "Tees"}, headers=owner))
    _ok(api.post("/admin/collections", {"slug": "summer", "title": "Summer", "product_ids": [product["id"]]},
                 headers=owner))
    _ok(api.post("/admin/discounts", {"code": "SAVE10", "kind": "percent", "value": 10}, headers=owner))
    gift = _ok(api.post("/admin/gift-cards", {"currency": "EUR", "amount": 500}, headers=owner))
    _ok(api.post("/admin/sales", {"name": "Later", "starts_at": "2099-01-01T00:00:00Z",
                                  "ends_at": "2099-02-01T00:00:00Z", "kind": "percent", "value": 10,
                                  "skus": ["TEE-S"]}, headers=owner))

    # A customer with an address; a guest cart with a line, a gift card applied, ready to check out.
    customer = bearer(pool.sign_up("eve@example.com")["id"])
    me = _ok(api.get("/me", headers=customer))
    address = _ok(api.post("/me/addresses", ADDRESS, headers=customer))
    cart = _ok(api.post("/carts", {}))
    _ok(api.post(f"/carts/{cart['id']}/lines", {"sku": "TEE-M", "quantity": 1}))
    _ok(api.patch(f"/carts/{cart['id']}", {"email": "ada@example.com", "shipping_address": ADDRESS,
                                           "shipping_method": "standard"}))
    _ok(api.post(f"/carts/{cart['id']}/gift-cards", {"code": gift["code"]}))

    # An order paid at localstripe, its T-shirts M shipped, three returns of one of them: asked, approved,
    # received. And an unpaid order (its T-shirt M reserved) to cancel.
    placed = _ready_checkout(api, {"TEE-M": 4, "TEE-S": 1}, payment_method="pm_card_visa")
    order_id = placed["order"]["id"]
    payment_id = placed["payment"]["client_secret"].split("_secret_")[0]
    assert post_event(api, paid_event(placed, payment_id=payment_id)).status_code == 200
    _ok(api.post(f"/admin/orders/{order_id}/shipments", {"carrier": "dhl", "tracking_number": "JD1",
                                                         "lines": [{"sku": "TEE-M", "quantity": 4}]}, headers=owner))
    token = {"X-Order-Token": placed["order_token"]}
    _ok(api.post(f"/orders/{order_id}/messages", {"body": "Where is the rest?"}, headers=token))
    returns = [_ok(api.post(f"/orders/{order_id}/returns", {"lines": [{"sku": "TEE-M", "quantity": 1,
                                                                       "reason": "size_or_fit"}]}, headers=token))
               for _ in range(3)]
    for steps, returned in zip(((), ("approve",), ("approve", "receive")), returns, strict=True):
        for step in steps:
            body = {"lines": [{"sku": "TEE-M", "quantity": 1, "restock": True}]} if step == "receive" else {}
            _ok(api.post(f"/admin/returns/{returned['id']}/{step}", body, headers=owner))
    unpaid = _ready_checkout(api, {"TEE-M": 1})

    # A company with terms: an approver (with a quote asked on her cart), a buyer with a spending limit (a
    # purchase request pending) and one who checked out by invoice.
    company = _ok(api.post("/admin/companies", {"name": "Acme GmbH", "billing_address": BILLING,
                                                "payment_terms_days": 30, "credit_limit": {"EUR": 1_000_000}},
                           headers=owner))
    buyers = {}
    for email, role, limit in (("ada@acme.example", "approver", None), ("bob@acme.example", "buyer", {"EUR": 100}),
                               ("cy@acme.example", "buyer", None)):
        body = {"email": email, "role": role} | ({"spending_limit": limit} if limit else {})
        _ok(api.post(f"/admin/companies/{company['id']}/buyers", body, headers=owner))
        buyers[email] = bearer(accept_invitation(pool, email)["id"])
    ada, bob, cy = buyers.values()
    quote_cart = _account_cart(api, ada, {"TEE-M": 3})
    quote = _ok(api.post(f"/carts/{quote_cart}/quote", {"message": "A better price?"}, headers=ada))
    request = _ok(api.post(f"/carts/{_account_cart(api, bob, {'TEE-M': 2})}/checkout", {}, headers=bob), 202)
    invoiced = _ok(api.post(f"/carts/{_account_cart(api, cy, {'TEE-S': 1})}/checkout",
                            {"payment_method": "invoice"}, headers=cy))
    answered = _ok(api.post(f"/carts/{_account_cart(api, cy, {'TEE-S': 2})}/quote", {}, headers=cy))
    _ok(api.post(f"/admin/quotes/{answered['id']}/answer", {"lines": [{"sku": "TEE-S", "unit_price": 1500}],
                                                            "expires_at": IN_A_WEEK}, headers=owner))
    from chalicelib.models.customers import customer_id_for
    from tests.growth_support import relay
    from tests.orders_support import Stream

    relay(api, Stream())  # the paid order makes its customer (the CRM's figures), as the stream does
    from tests.growth_support import scheduled

    scheduled(api, "refresh_catalogue_views")  # the search index and the feeds
    crm_customer = customer_id_for("ada@example.com")
    price_list = _ok(api.post("/admin/price-lists", {"name": "Acme", "currency": "EUR", "companies": [company["id"]],
                                                     "prices": [{"sku": "TEE-M", "tiers": [{"min_quantity": 1,
                                                                                            "price": 1500}]}]},
                              headers=owner))
    support = _ok(api.post("/admin/staff", {"email": "sam@staff.example.com", "role": "support"}, headers=owner))
    from chalicelib import cart_links, clock, unsubscribe

    return {"api": api, "pool": pool, "owner": owner, "customer": customer, "approver": ada,
            "order_token": token, "unsubscribe_token": unsubscribe.unsubscribe_link(me["id"]).split("token=")[1],
            "ids": {"product_id": product["id"], "cart_id": cart["id"], "quote_cart_id": quote_cart,
                    "payment_id": payment_id, "paid": placed["order"]["total"],
                    "order_id": order_id, "unpaid_order_id": unpaid["order"]["id"], "customer_id": me["id"],
                    "return_id": returns[0]["id"], "approved_return_id": returns[1]["id"],
                    "received_return_id": returns[2]["id"], "crm_customer_id": crm_customer,
                    "answered_quote_id": answered["id"],
                    "restore_token": cart_links.token(cart["id"], clock.now() + timedelta(days=7)),
                    "address_id": address["id"], "company_id": company["id"], "gift_card_id": gift["id"],
                    "gift_card_code": gift["code"], "last4": gift["last4"],
                    "invoice_id": invoiced["order"]["invoice"]["id"],
                    "price_list_id": price_list["id"], "quote_id": quote["id"],
                    "request_id": request["purchase_request"]["id"], "segment_id": "new", "slug": "tees",
                    "collection_slug": "summer", "sku": "TEE-M", "code": "SAVE10", "username": support["username"]}}


def _ready_checkout(api, lines, **body) -> dict:
    cart = _ok(api.post("/carts", {}))
    for sku, quantity in lines.items():
        _ok(api.post(f"/carts/{cart['id']}/lines", {"sku": sku, "quantity": quantity}))
    _ok(api.patch(f"/carts/{cart['id']}", {"email": "ada@example.com", "shipping_address": ADDRESS,
                                           "shipping_method": "standard"}))
    return _ok(api.post(f"/carts/{cart['id']}/checkout", body), 201)


def _account_cart(api, headers, lines) -> str:
    cart = _ok(api.post("/carts", {"currency": "EUR"}))
    _ok(api.post("/me/carts", {"cart_id": cart["id"]}, headers=headers))
    for sku, quantity in lines.items():
        _ok(api.post(f"/carts/{cart['id']}/lines", {"sku": sku, "quantity": quantity}))
    _ok(api.patch(f"/carts/{cart['id']}", {"shipping_address": ADDRESS, "shipping_method": "standard"}))
    return cart["id"]


# --- a valid body for each operation that takes one (`ids` are the world's) -------------------------

IN_A_WEEK = "2099-01-08T00:00:00Z"
PRODUCT_CSV = ("product_id,product_title,description,active,sku,variant_title,price,currency,on_hand,"
               "low_stock_threshold\n")
PRICE_CSV = "sku,min_quantity,price,sku_min_quantity,step\n"
BODIES = {
    ("POST", "/admin/categories"): lambda ids: {"slug": "hats", "title": "Hats", "parent": "tees"},
    ("POST", "/admin/collections"): lambda ids: {"slug": "winter", "title": "Winter",
                                                 "product_ids": [ids["product_id"]]},
    ("POST", "/admin/companies"): lambda ids: {"name": "Beta SA", "billing_address": BILLING, "vat_id": "FR12345678901",
                                               "payment_terms_days": 30, "credit_limit": {"EUR": 5000}},
    ("PATCH", "/admin/companies/{company_id}"): lambda ids: {"name": "Acme AG", "payment_terms_days": 14,
                                                            "credit_limit": {"EUR": 2000}, "billing_address": BILLING},
    ("POST", "/admin/companies/{company_id}/buyers"): lambda ids: {"email": "dan@acme.example", "role": "buyer",
                                                                  "spending_limit": {"EUR": 1000}},
    ("PATCH", "/admin/customers/{customer_id}"): lambda ids: {"tags": ["vip"], "note": "Prefers DHL."},
    ("POST", "/admin/customers/{customer_id}/credit"): lambda ids: {"currency": "EUR", "amount": 500,
                                                                   "reason": "Goodwill"},
    ("POST", "/admin/discounts"): lambda ids: {"code": "NEW20", "kind": "fixed", "value": 200, "currency": "EUR",
                                               "min_subtotal": 1000, "usage_limit": 10, "per_customer_limit": 1,
                                               "starts_at": "2099-01-01T00:00:00Z", "ends_at": IN_A_WEEK},
    ("POST", "/admin/gift-cards"): lambda ids: {"currency": "EUR", "amount": 2500, "recipient_email": "gus@example.com",
                                                "message": "Enjoy", "expires_at": IN_A_WEEK},
    ("PUT", "/admin/inventory/{sku}"): lambda ids: {"on_hand": 120, "low_stock_threshold": 5, "shards": 1},
    ("POST", "/admin/inventory/{sku}/adjustments"): lambda ids: {"delta": 5, "reason": "Received"},
    ("POST", "/admin/orders/{order_id}/cancel"): lambda ids: {"reason": "Customer asked"},
    ("POST", "/admin/orders/{order_id}/messages"): lambda ids: {"body": "On its way.", "internal": False},
    ("POST", "/admin/orders/{order_id}/messages/close"): lambda ids: {},
    ("POST", "/admin/orders/{order_id}/refunds"): lambda ids: {"amount": 100, "reason": "Late"},
    ("POST", "/admin/orders/{order_id}/shipments"): lambda ids: {"carrier": "dhl", "tracking_number": "JD2",
                                                                "lines": [{"sku": "TEE-S", "quantity": 1}]},
    ("POST", "/admin/price-lists"): lambda ids: {"name": "Beta", "currency": "EUR", "companies": [],
                                                 "customer_groups": ["vip"],
                                                 "prices": [{"sku": "TEE-S", "tiers": [{"min_quantity": 1,
                                                                                        "price": 1500}]}]},
    ("PUT", "/admin/price-lists/{price_list_id}"): lambda ids: {"name": "Acme", "currency": "EUR",
                                                               "companies": [ids["company_id"]],
                                                               "prices": [{"sku": "TEE-M", "tiers": [
                                                                   {"min_quantity": 1, "price": 1400}]}]},
    ("POST", "/admin/price-lists/{price_list_id}/import"): lambda ids: {
        "csv": PRICE_CSV + "TEE-S,1,1300,,\n"},
    ("POST", "/admin/products"): lambda ids: {**product_body("CAP", sizes=("ONE",)), "tags": ["hat"],
                                              "categories": ["tees"]},
    ("POST", "/admin/products/import"): lambda ids: {"csv": PRODUCT_CSV + ",Mug,,true,MUG-1,,900,EUR,5,\n"},
    ("PUT", "/admin/products/{product_id}"): lambda ids: {**product_body(on_hand=100), "tags": ["tee"]},
    ("POST", "/admin/products/{product_id}/images"): lambda ids: {"alt": "Front", "content_type": "image/png"},
    ("POST", "/admin/quotes/{quote_id}/answer"): lambda ids: {"lines": [{"sku": "TEE-M", "unit_price": 1700}],
                                                             "expires_at": IN_A_WEEK},
    ("POST", "/admin/returns/{return_id}/approve"): lambda ids: {"message": "Send it back."},
    ("POST", "/admin/returns/{return_id}/reject"): lambda ids: {"message": "Worn."},
    ("POST", "/admin/returns/{return_id}/receive"): lambda ids: {"lines": [{"sku": "TEE-M", "quantity": 1,
                                                                           "restock": True}]},
    ("POST", "/admin/returns/{return_id}/refund"): lambda ids: {"method": "exchange",
                                                               "exchange_lines": [{"sku": "TEE-S", "quantity": 1}]},
    ("POST", "/admin/sales"): lambda ids: {"name": "Spring", "starts_at": "2099-03-01T00:00:00Z",
                                           "ends_at": "2099-04-01T00:00:00Z", "kind": "fixed", "value": 100,
                                           "currency": "EUR", "skus": ["TEE-M"]},
    ("POST", "/admin/staff"): lambda ids: {"email": "tia@staff.example.com", "role": "fulfilment"},
    ("PUT", "/admin/staff/{username}/role"): lambda ids: {"role": "manager"},
    ("POST", "/carts"): lambda ids: {"currency": "EUR", "email": "ada@example.com"},
    ("POST", "/carts/restore"): lambda ids: {"token": ids["restore_token"]},
    ("PATCH", "/carts/{cart_id}"): lambda ids: {"email": "ada@example.com", "shipping_address": ADDRESS,
                                                "shipping_method": "standard", "discount_code": "SAVE10"},
    ("POST", "/carts/{cart_id}/checkout"): lambda ids: {"payment_method": "pm_card_visa", "marketing_consent": True},
    ("POST", "/carts/{cart_id}/gift-cards"): lambda ids: {"code": ids["gift_card_code"]},
    ("POST", "/carts/{cart_id}/lines"): lambda ids: {"sku": "TEE-S", "quantity": 2},
    ("PATCH", "/carts/{cart_id}/lines/{sku}"): lambda ids: {"quantity": 3},
    ("POST", "/carts/{cart_id}/quote"): lambda ids: {"message": "Any better?"},
    ("POST", "/company/purchase-requests/{request_id}/approve"): lambda ids: {"message": "Fine."},
    ("POST", "/company/purchase-requests/{request_id}/reject"): lambda ids: {"message": "Too much."},
    ("PATCH", "/me"): lambda ids: {"name": "Eve", "phone": "+49301234567", "marketing_consent": True},
    ("POST", "/me/addresses"): lambda ids: {**ADDRESS, "line2": "Flat 2", "region": "BE", "default": True},
    ("PATCH", "/me/addresses/{address_id}"): lambda ids: {"city": "Hamburg", "postal_code": "20095", "default": True},
    ("POST", "/me/carts"): lambda ids: {"cart_id": ids["cart_id"]},
    ("POST", "/orders/{order_id}/messages"): lambda ids: {"body": "Thanks!"},
    ("POST", "/orders/{order_id}/returns"): lambda ids: {
        "lines": [{"sku": "TEE-M", "quantity": 1, "reason": "damaged"}], "comment": "Torn."},
    ("POST", "/quotes/{quote_id}/accept"): lambda ids: {"payment_method": "pm_card_visa"},
    ("POST", "/webhooks/bank-transfer"): lambda ids: {"transfer_id": "tr_1", "reference": "Invoice 2099-000001",
                                                      "amount": 100, "currency": "EUR"},
    ("POST", "/webhooks/stripe"): lambda ids: {"id": "evt_sweep", "object": "event", "type": "payment_intent.succeeded",
                                               "created": 1, "livemode": False, "api_version": "2024-06-20",
                                               "data": {"object": {"id": ids["payment_id"], "object": "payment_intent",
                                                                   "amount": ids["paid"],
                                                                   "amount_received": ids["paid"],
                                                                   "currency": "eur",
                                                                   "metadata": {"order_id": ids["order_id"]},
                                                                   "status": "succeeded"}}},
}

# Values of the right type that no valid request holds: unknown references in the body, the same SKU twice
# (one transaction cannot touch an item twice), windows that end before they start, amounts past what the
# state allows, rows of a CSV. Each is (method, path, label, {field path: value}).
LINE = {"sku": "TEE-M", "quantity": 1}
SEMANTIC = [
    ("POST", "/carts", "unknown_currency", {("currency",): "XXX"}),
    ("POST", "/carts/{cart_id}/lines", "unknown_sku", {("sku",): "NO-SUCH-SKU"}),
    ("POST", "/carts/{cart_id}/lines", "more_than_stock", {("quantity",): 999}),
    ("POST", "/carts/{cart_id}/lines", "gift_card_on_a_tee", {("gift_card",): {"recipient_email": "gus@example.com"}}),
    ("PATCH", "/carts/{cart_id}/lines/{sku}", "more_than_stock", {("quantity",): 999}),
    ("POST", "/carts/{cart_id}/checkout", "invoice_as_a_guest", {("payment_method",): "invoice"}),
    ("POST", "/carts/{cart_id}/checkout", "unknown_payment_method", {("payment_method",): "pm_no_such_method"}),
    ("POST", "/carts/{cart_id}/checkout", "declined_card", {("payment_method",): "pm_card_chargeDeclined"}),
    ("POST", "/quotes/{quote_id}/accept", "unknown_payment_method", {("payment_method",): "pm_no_such_method"}),
    ("PATCH", "/carts/{cart_id}", "unknown_shipping_method", {("shipping_method",): "teleport"}),
    ("PATCH", "/carts/{cart_id}", "unknown_discount_code", {("discount_code",): "NOSUCHCODE"}),
    ("PATCH", "/carts/{cart_id}", "unknown_country", {("shipping_address", "country"): "ZZ"}),
    ("PATCH", "/carts/{cart_id}", "store_credit_without_token", {("use_store_credit",): True}),
    ("POST", "/carts/{cart_id}/gift-cards", "unknown_code", {("code",): "NOSUCHGIFTCODE1"}),
    ("POST", "/carts/restore", "forged_token", {("token",): "eyJjYXJ0IjoiY2FydF94In0.forged"}),
    ("POST", "/me/carts", "unknown_cart", {("cart_id",): UNKNOWN["cart_id"]}),
    ("POST", "/me/addresses", "unknown_country", {("country",): "ZZ"}),
    ("POST", "/admin/products", "same_sku_twice", {("variants", 1): product_body("CAP", sizes=["ONE"])["variants"][0]}),
    ("POST", "/admin/products", "another_products_sku", {("variants", 0, "sku"): "TEE-M"}),
    ("POST", "/admin/products", "unknown_category", {("categories",): ["no-such-category"]}),
    ("POST", "/admin/products", "unknown_currency", {("variants", 0, "currency"): "XXX"}),
    ("PUT", "/admin/products/{product_id}", "same_sku_twice", {("variants", 1, "sku"): "TEE-S",
                                                               ("variants", 0, "sku"): "TEE-S"}),
    ("POST", "/admin/categories", "unknown_parent", {("parent",): "no-such-parent"}),
    ("POST", "/admin/categories", "existing_slug", {("slug",): "tees", ("parent",): None}),
    ("POST", "/admin/collections", "unknown_product", {("product_ids",): [UNKNOWN["product_id"]]}),
    ("POST", "/admin/collections", "same_product_twice", {("product_ids",): ["{product_id}", "{product_id}"]}),
    ("POST", "/admin/collections", "existing_slug", {("slug",): "summer"}),
    ("POST", "/admin/discounts", "existing_code", {("code",): "SAVE10"}),
    ("POST", "/admin/discounts", "ends_before_it_starts", {("ends_at",): "2098-01-01T00:00:00Z"}),
    ("POST", "/admin/discounts", "percent_over_100", {("kind",): "percent", ("value",): 101, ("currency",): None}),
    ("POST", "/admin/gift-cards", "expired_already", {("expires_at",): "2001-01-01T00:00:00Z"}),
    ("POST", "/admin/gift-cards", "unknown_currency", {("currency",): "XXX"}),
    ("PUT", "/admin/inventory/{sku}", "below_reserved", {("on_hand",): 0}),
    ("POST", "/admin/inventory/{sku}/adjustments", "below_zero", {("delta",): -10_000_000}),
    ("POST", "/admin/inventory/{sku}/adjustments", "delta_and_on_hand", {("on_hand",): 5}),
    ("POST", "/admin/inventory/{sku}/adjustments", "neither_delta_nor_on_hand", {("delta",): MISSING}),
    ("POST", "/admin/orders/{order_id}/refunds", "more_than_paid", {("amount",): 10_000_000_000}),
    ("POST", "/admin/orders/{order_id}/shipments", "unknown_sku", {("lines", 0, "sku"): "NO-SUCH-SKU"}),
    ("POST", "/admin/orders/{order_id}/shipments", "same_sku_twice", {("lines",): [{**LINE, "sku": "TEE-S"}] * 2}),
    ("POST", "/admin/orders/{order_id}/shipments", "more_than_ordered", {("lines", 0, "quantity"): 999}),
    ("POST", "/admin/price-lists", "unknown_company", {("companies",): [UNKNOWN["company_id"]]}),
    ("POST", "/admin/price-lists", "unknown_sku", {("prices", 0, "sku"): "NO-SUCH-SKU"}),
    ("POST", "/admin/price-lists", "same_sku_twice", {("prices", 1): {"sku": "TEE-S", "tiers": [
        {"min_quantity": 5, "price": 1000}]}}),
    ("POST", "/admin/price-lists", "same_tier_twice", {("prices", 0, "tiers"): [{"min_quantity": 1, "price": 1}] * 2}),
    ("POST", "/admin/price-lists", "unknown_currency", {("currency",): "XXX"}),
    ("POST", "/admin/price-lists/{price_list_id}/import", "huge_price", {("csv",): PRICE_CSV + f"TEE-S,1,{HUGE},,\n"}),
    ("POST", "/admin/price-lists/{price_list_id}/import", "negative_price", {("csv",): PRICE_CSV + "TEE-S,1,-5,,\n"}),
    ("POST", "/admin/price-lists/{price_list_id}/import", "unknown_sku", {("csv",): PRICE_CSV + "NO-SUCH-SKU,1,5,,\n"}),
    ("POST", "/admin/price-lists/{price_list_id}/import", "not_csv", {("csv",): "\x00\x01\"\n\"\"\",,,"}),
    ("POST", "/admin/price-lists/{price_list_id}/import", "long_sku", {("csv",): PRICE_CSV + "A" * 3000 + ",1,5,,\n"}),
    ("POST", "/admin/products/import", "huge_price", {("csv",): PRODUCT_CSV + f",Mug,,true,MUG-1,,{HUGE},EUR,5,\n"}),
    ("POST", "/admin/products/import", "huge_stock", {("csv",): PRODUCT_CSV + f",Mug,,true,MUG-1,,900,EUR,{HUGE},\n"}),
    ("POST", "/admin/products/import", "long_sku", {("csv",): PRODUCT_CSV + f",Mug,,true,{'A' * 3000},,9,EUR,5,\n"}),
    ("POST", "/admin/products/import", "long_title", {
        ("csv",): PRODUCT_CSV + f",{'g' * 5000},,true,MUG-1,,9,EUR,5,\n"}),
    ("POST", "/admin/products/import", "unknown_product", {
        ("csv",): PRODUCT_CSV + f"{UNKNOWN['product_id']},Mug,,true,MUG-1,,9,EUR,5,\n"}),
    ("POST", "/admin/products/import", "not_csv", {("csv",): "\x00\x01\"\n\"\"\",,,"}),
    ("POST", "/admin/products/import", "header_only", {("csv",): PRODUCT_CSV}),
    ("POST", "/admin/quotes/{quote_id}/answer", "sku_not_quoted", {("lines", 0, "sku"): "TEE-S"}),
    ("POST", "/admin/quotes/{quote_id}/answer", "same_sku_twice", {("lines",): [{"sku": "TEE-M", "unit_price": 1}]
                                                                   * 2}),
    ("POST", "/admin/quotes/{quote_id}/answer", "expired_already", {("expires_at",): "2001-01-01T00:00:00Z"}),
    ("POST", "/admin/returns/{return_id}/receive", "sku_not_returned", {("lines", 0, "sku"): "TEE-S"}),
    ("POST", "/admin/returns/{return_id}/receive", "same_sku_twice", {("lines",): [{"sku": "TEE-M", "quantity": 1,
                                                                                   "restock": True}] * 2}),
    ("POST", "/admin/returns/{return_id}/receive", "more_than_returned", {("lines", 0, "quantity"): 999}),
    ("POST", "/admin/returns/{return_id}/refund", "exchange_without_lines", {("exchange_lines",): None}),
    ("POST", "/admin/returns/{return_id}/refund", "exchange_unknown_sku", {
        ("exchange_lines", 0, "sku"): "NO-SUCH-SKU"}),
    ("POST", "/admin/returns/{return_id}/refund", "exchange_same_sku_twice", {("exchange_lines",): [
        {"sku": "TEE-S", "quantity": 1}] * 2}),
    ("POST", "/admin/sales", "ends_before_it_starts", {("ends_at",): "2099-02-01T00:00:00Z"}),
    ("POST", "/admin/sales", "unknown_sku", {("skus",): ["NO-SUCH-SKU"]}),
    ("POST", "/admin/sales", "same_sku_twice", {("skus",): ["TEE-M", "TEE-M"]}),
    ("POST", "/admin/sales", "unknown_category", {("skus",): None, ("category",): "no-such-category"}),
    ("POST", "/admin/sales", "percent_over_100", {("kind",): "percent", ("value",): 101, ("currency",): None}),
    ("POST", "/admin/companies", "unknown_currency_limit", {("credit_limit",): {"XXX": 5}}),
    ("POST", "/admin/companies/{company_id}/buyers", "existing_buyer", {("email",): "ada@acme.example"}),
    ("POST", "/admin/staff", "existing_staff", {("email",): "owner@staff.example.com"}),
    ("POST", "/admin/customers/{customer_id}/credit", "take_back_more_than_held", {("amount",): -10_000_000_000}),
    ("POST", "/admin/customers/{customer_id}/credit", "unknown_currency", {("currency",): "XXX"}),
    ("POST", "/orders/{order_id}/returns", "sku_not_shipped", {("lines", 0, "sku"): "TEE-S"}),
    ("POST", "/orders/{order_id}/returns", "unknown_sku", {("lines", 0, "sku"): "NO-SUCH-SKU"}),
    ("POST", "/orders/{order_id}/returns", "same_sku_twice", {("lines",): [{**LINE, "reason": "damaged"}] * 2}),
    ("POST", "/orders/{order_id}/returns", "more_than_shipped", {("lines", 0, "quantity"): 999}),
    ("POST", "/webhooks/stripe", "object_not_an_object", {("data", "object"): "pi_sweep"}),
    ("POST", "/webhooks/stripe", "no_data", {("data",): MISSING}),
    ("POST", "/webhooks/stripe", "amount_not_a_number", {("data", "object", "amount_received"): "abc"}),
    ("POST", "/webhooks/stripe", "negative_amount", {("data", "object", "amount_received"): -1}),
    ("POST", "/webhooks/stripe", "fraction_amount", {("data", "object", "amount_received"): 99.5}),
    ("POST", "/webhooks/stripe", "huge_amount", {("data", "object", "amount_received"): HUGE}),
    ("POST", "/webhooks/stripe", "metadata_not_an_object", {("data", "object", "metadata"): "x"}),
    ("POST", "/webhooks/stripe", "unknown_order", {("data", "object", "metadata", "order_id"): UNKNOWN["order_id"]}),
    ("POST", "/webhooks/stripe", "type_not_a_string", {("type",): 123}),
    ("POST", "/webhooks/bank-transfer", "huge_amount", {("amount",): HUGE}),
]
# Query strings of the right form that no valid request holds: search syntax, ranges upside down or centuries
# long, the same SKU many times. Each is (method, path, label, parameters).
QUERY_SEMANTIC = [
    *[("GET", "/search", f"q_{label}", {"q": q}) for label, q in (
        ("quote", '"unbalanced'), ("operator", "tee OR"), ("star", "*"), ("near", "NEAR(tee shirt"),
        ("column", "title:tee"), ("caret", "^tee"), ("minus", "-tee"), ("nul", "tee\u0000"), ("parens", "((("))],
    ("GET", "/search", "price_min_above_max", {"price_min": "5000", "price_max": "10"}),
    ("GET", "/search", "unknown_currency", {"currency": "XXX"}),
    ("GET", "/products", "unknown_currency", {"currency": "XXX"}),
    ("GET", "/products", "unknown_category", {"category": "no-such-category"}),
    ("GET", "/admin/inventory", "same_sku_many_times", {"skus": ",".join(["TEE-M"] * 300)}),
    ("GET", "/admin/inventory", "many_skus", {"skus": ",".join(f"S{i}" for i in range(900))}),
    ("GET", "/admin/reports/sales", "to_before_from", {"from": "2026-02-01", "to": "2026-01-01"}),
    ("GET", "/admin/reports/sales", "centuries", {"from": "0001-01-01", "to": "9999-12-31"}),
    ("GET", "/admin/reports/sales", "unknown_currency", {"currency": "XXX"}),
    ("GET", "/admin/reports/funnel", "to_before_from", {"from": "2026-02-01", "to": "2026-01-01"}),
    ("GET", "/admin/reports/funnel", "centuries", {"from": "0001-01-01", "to": "9999-12-31"}),
    ("GET", "/admin/audit", "centuries", {"from": "0001-01-01", "to": "9999-12-31"}),
    ("GET", "/admin/audit", "to_before_from", {"from": "2026-02-01", "to": "2026-01-01"}),
    ("GET", "/admin/audit.csv", "centuries", {"from": "0001-01-01", "to": "9999-12-31"}),
    ("GET", "/admin/customers", "email_wildcards", {"email": "%_*@%"}),
    ("GET", "/admin/gift-cards", "unknown_code", {"code": "NOSUCHCODE"}),
]
# Query cases a good backend may answer 2xx (an empty result): never a 5xx.
QUERY_MAYBE_VALID = {"q_quote", "q_operator", "q_star", "q_near", "q_column", "q_caret", "q_minus", "q_nul",
                     "q_parens", "email_wildcards", "unknown_code", "unknown_category", "price_min_above_max",
                     "same_sku_many_times"}  # each SKU answered once

# Semantic cases a good backend may accept (2xx): never a 5xx; what they change is put back.
SEMANTIC_MAYBE_VALID = {
    ("POST", "/carts/{cart_id}/checkout", "declined_card"): "the order stays placed for another card (a 402)",
    ("POST", "/carts/{cart_id}/checkout", "unknown_payment_method"): "the same",
    ("POST", "/quotes/{quote_id}/accept", "unknown_payment_method"): "the same",
    ("POST", "/admin/companies/{company_id}/buyers", "existing_buyer"): "adding a buyer again changes their role and "
                                                                        "limit (services/companies.add_buyer)",
    ("POST", "/admin/price-lists", "unknown_sku"): "a price list may price a SKU before the catalogue has it "
                                                   "(tests/test_price_lists.py)",
    ("POST", "/admin/price-lists/{price_list_id}/import", "unknown_sku"): "the same, from a CSV",
}
# A signed Stripe event we cannot use is acknowledged (a 4xx would have Stripe retry it for days) but must change
# nothing: these cases may be a 2xx, never a 5xx, and nothing is written.
ACKNOWLEDGED = "/webhooks/stripe"


# --- the cases -----------------------------------------------------------------------------------

PLACEHOLDER_IDS = {**UNKNOWN, "gift_card_code": "GIFTCODE", "quote_cart_id": UNKNOWN["cart_id"],
                   "restore_token": "restore-token", "payment_id": "pi_x", "paid": 100,
                   "collection_slug": "summer", "customer_id": "cus_x"}
PATH_IDS = {  # (route, parameter) -> the world's id to use, where the parameter's name is not enough
    ("/collections/{slug}", "slug"): "collection_slug",
    ("/gift-cards/{code}/balance", "code"): "gift_card_code",
    ("/carts/{cart_id}/quote", "cart_id"): "quote_cart_id",
    ("/admin/orders/{order_id}/cancel", "order_id"): "unpaid_order_id",
    ("/admin/returns/{return_id}/receive", "return_id"): "approved_return_id",
    ("/admin/returns/{return_id}/refund", "return_id"): "received_return_id",
    ("/admin/customers/{customer_id}", "customer_id"): "crm_customer_id",
    ("/admin/customers/{customer_id}/credit", "customer_id"): "crm_customer_id",
    ("/quotes/{quote_id}/accept", "quote_id"): "answered_quote_id",
}


def _resolve(schema: dict) -> dict:
    while "$ref" in schema:
        schema = SCHEMAS[schema["$ref"].split("/")[-1]]
    return schema


def _alternatives(schema: dict) -> tuple[dict, bool]:
    """The field's schema without its `null` alternative, and whether null is allowed."""
    schema = _resolve(schema)
    options = [_resolve(option) for option in schema.get("anyOf", [schema])]
    concrete = [option for option in options if option.get("type") != "null"]
    return (concrete[0] if concrete else {}), len(concrete) < len(options)


def _field_cases(model: str, field: str, schema: dict, required: bool, baseline) -> list[tuple[str, object, str]]:
    """(label, value, expectation) for one field; expectation "invalid" (a 4xx that changes nothing) or
    "hostile" (maybe valid: never a 5xx)."""
    concrete, nullable = _alternatives(schema)
    kind = concrete.get("type")
    cases = [("missing", MISSING, "invalid")] if required else []
    if not nullable and kind is not None:
        cases.append(("null", None, "invalid"))
    if kind == "string":
        cases += [("integer", 12345, "invalid"), ("object", {"a": 1}, "invalid"), ("100k_chars", LONG, "invalid")]
        if "enum" in concrete:
            cases.append(("unknown_enum", "bogus-value", "invalid"))
        if "pattern" in concrete:
            cases.append(("pattern", "\u0000 !*", "invalid"))
        if concrete.get("format") in ("date-time", "date"):
            cases.append(("not_a_date", "2026-02-30T25:61:00Z", "invalid"))
        if concrete.get("minLength", 0) >= 1:
            cases += [("empty", "", "invalid"), ("blank", "   ", "invalid")]
        if "maxLength" in concrete:
            cases.append(("too_long", "a" * (concrete["maxLength"] + 1), "invalid"))
        elif not ({"enum", "pattern", "format"} & set(concrete)):
            cases.append(("3k_chars", "a" * 3000, "hostile"))
    elif kind == "integer":
        minimum, maximum = concrete.get("minimum"), concrete.get("maximum")
        cases += [("string", "abc", "invalid"), ("fraction", 1.5, "invalid"), ("huge", HUGE, "invalid")]
        if minimum is not None and minimum < 0:
            cases.append(("below_minimum", minimum - 1, "invalid"))
        elif (model, field) not in NEGATIVE_ALLOWED:
            cases.append(("negative", -1, "invalid"))
        if maximum is not None and maximum < HUGE:
            cases.append(("above_maximum", maximum + 1, "invalid"))
    elif kind == "boolean":
        cases += [("string", "maybe", "invalid"), ("integer", 2, "invalid")]
    elif kind == "array":
        cases += [("string", "x", "invalid"), ("object", {"a": 1}, "invalid")]
        item = _resolve(concrete.get("items", {}))
        if item.get("type") == "string":
            cases.append(("item_integer", [12345], "invalid"))
    elif kind == "object":
        cases += [("string", "x", "invalid"), ("array", [1], "invalid")]
        if "patternProperties" in concrete:  # money by currency: {"EUR": 1000}
            cases += [("negative_amount", {"EUR": -1}, "invalid"), ("huge_amount", {"EUR": HUGE}, "invalid"),
                      ("string_amount", {"EUR": "abc"}, "invalid"), ("bad_currency", {"euro": 1}, "invalid")]
    return cases


def _body_cases(model_name: str, schema: dict, baseline: dict, prefix: tuple = (), depth: int = 0):
    """(path in the body, label, value, expectation) for every field of the model, nested models included."""
    schema = _resolve(schema)
    required = set(schema.get("required", []))
    for field, field_schema in schema.get("properties", {}).items():
        path = (*prefix, field)
        for label, value, expect in _field_cases(model_name, field, field_schema, field in required, baseline):
            yield path, label, value, expect
        concrete, _ = _alternatives(field_schema)
        present = baseline.get(field) if isinstance(baseline, dict) else None
        if depth >= 2 or present is None:
            continue
        if concrete.get("type") == "array" and present and isinstance(present[0], dict):
            item = _resolve(concrete["items"])
            yield from _body_cases(item.get("title", model_name), item, present[0], (*path, 0), depth + 1)
        elif concrete.get("properties") and isinstance(present, dict):
            yield from _body_cases(concrete.get("title", model_name), concrete, present, path, depth + 1)


def _query_cases(name: str, schema: dict) -> list[tuple[str, str]]:
    if name == "limit":
        return [("abc", "abc"), ("negative", "-1"), ("zero", "0"), ("above_100", "101"), ("huge", str(HUGE)),
                ("fraction", "1.5"), ("superscript", "\u00b2")]
    if name == "cursor":
        forged = json.dumps({"PK": "CUSTOMER#x", "SK": "PROFILE"}).encode()
        import base64

        return [("garbage", "garbage!"), ("base64_array", base64.urlsafe_b64encode(b"[1,2]").decode()),
                ("other_listing", base64.urlsafe_b64encode(forged).decode().rstrip("=")), ("too_long", "a" * 1100)]
    cases = []
    if schema.get("type") == "integer":
        cases += [("string", "abc"), ("negative", "-1"), ("huge", str(HUGE))]
    elif schema.get("type") == "boolean":
        cases.append(("not_boolean", "maybe"))
    if "enum" in schema:
        cases.append(("unknown_enum", "bogus"))
    if "pattern" in schema:
        cases.append(("pattern", "!!"))
    if schema.get("format") == "date":
        cases += [("not_a_date", "2026-02-30"), ("words", "yesterday")]
    if "maxLength" in schema:
        cases.append(("too_long", "a" * (schema["maxLength"] + 1)))
    if schema.get("minLength", 0) > 1:
        cases.append(("too_short", "a"))
    return cases


def _operations():
    for path, operations in SPEC["paths"].items():
        for method, operation in operations.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield method.upper(), path, operation


def _model(operation: dict) -> str | None:
    """The name of the operation's body model, if it takes a JSON body of one."""
    schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema", {})
    return schema["$ref"].split("/")[-1] if "$ref" in schema else None


def _baseline(method: str, path: str, ids: dict) -> dict | None:
    """A valid body: the operation's from BODIES, `{}` for one that takes none, None for a GET or DELETE."""
    if (method, path) in BODIES:
        return BODIES[(method, path)](ids)
    return {} if method in ("POST", "PUT", "PATCH") else None


def _cases():
    for method, path, operation in _operations():
        if (method, path) in SKIPPED:
            continue
        takes_body = method in ("POST", "PUT", "PATCH") and (method, path) not in BODY_IGNORED
        if takes_body:
            yield pytest.param(method, path, "not_json", None, "invalid", id=f"{method} {path} a:not_json")
            yield pytest.param(method, path, "raw", [{}], "invalid", id=f"{method} {path} b:array")
            yield pytest.param(method, path, "raw", "text", "invalid", id=f"{method} {path} b:string")
            yield pytest.param(method, path, "form", None, "invalid", id=f"{method} {path} a:form_encoded")
        if takes_body and method == "POST" and not path.startswith("/webhooks/"):
            yield pytest.param(method, path, "keyed", ("k" * 256, None), "invalid",
                               id=f"{method} {path} b:idempotency_key_too_long")
            yield pytest.param(method, path, "keyed", (None, b'{"this is": not json'), "invalid",
                               id=f"{method} {path} b:keyed_not_json")
        model = _model(operation)
        if takes_body and model is not None and SCHEMAS[model].get("additionalProperties") is False:
            # Not the webhooks': a Stripe event or a bank's payload gains fields whenever the sender adds them.
            yield pytest.param(method, path, "field", ((("unexpected_field",), 1),), "invalid",
                               id=f"{method} {path} b:unknown_field")
        if model is not None and (method, path) in BODIES:
            baseline = BODIES[(method, path)](PLACEHOLDER_IDS)
            for field_path, label, value, expect in _body_cases(model, SCHEMAS[model], baseline):
                name = ".".join(str(part) for part in field_path)
                yield pytest.param(method, path, "field", ((field_path, value),), expect,
                                   id=f"{method} {path} c:{name}:{label}")
        for semantic_method, semantic_path, label, changes in SEMANTIC:
            if (semantic_method, semantic_path) == (method, path):
                expect = "hostile" if (method, path, label) in SEMANTIC_MAYBE_VALID else \
                    "acknowledged" if path == ACKNOWLEDGED else "invalid"
                yield pytest.param(method, path, "field", tuple(changes.items()), expect,
                                   id=f"{method} {path} c:{label}")
        for parameter in re.findall(r"{(\w+)}", path):
            yield pytest.param(method, path, "unknown_id", (parameter, None), "invalid",
                               id=f"{method} {path} d:{parameter}")
            for label, value in ODD_IDS.items():
                yield pytest.param(method, path, "unknown_id", (parameter, value), "invalid",
                                   id=f"{method} {path} d:{parameter}:{label}")
        for query_method, query_path, label, parameters in QUERY_SEMANTIC:
            if (query_method, query_path) == (method, path):
                expect = "hostile" if label in QUERY_MAYBE_VALID else "invalid"
                yield pytest.param(method, path, "query", tuple(parameters.items()), expect,
                                   id=f"{method} {path} e:{label}")
        for parameter in operation.get("parameters", []):
            if parameter.get("in") == "query":
                for label, value in _query_cases(parameter["name"], parameter.get("schema", {})):
                    yield pytest.param(method, path, "query", ((parameter["name"], value),), "invalid",
                                       id=f"{method} {path} e:{parameter['name']}={label}")


CASES = list(_cases())


def test_every_operation_is_swept_or_skipped_with_a_reason():
    swept = {(case.values[0], case.values[1]) for case in CASES}
    operations = {(method, path) for method, path, _ in _operations()}
    assert operations == swept | set(SKIPPED), operations ^ (swept | set(SKIPPED))
    assert not swept & set(SKIPPED)
    with_body = {(m, p) for m, p, op in _operations() if _model(op) not in (None, "NoBody")}
    assert with_body <= set(BODIES), with_body - set(BODIES)


@pytest.mark.parametrize(("method", "path"), sorted(BODIES))
def test_each_valid_body_fits_the_documented_schema(method, path):
    """The baselines are valid, so each body case differs from a valid request by the one field it breaks."""
    jsonschema = pytest.importorskip("jsonschema")
    operation = SPEC["paths"][path][method.lower()]
    schema = operation["requestBody"]["content"]["application/json"]["schema"]
    document = {**schema, "components": SPEC["components"]}
    jsonschema.validate(BODIES[(method, path)](PLACEHOLDER_IDS), document)


def _headers(world: dict, method: str, path: str) -> dict:
    if path.startswith("/admin/"):
        return world["owner"]
    if path.startswith("/me"):
        return world["customer"]
    if path.startswith(("/company", "/quotes/")) or path == "/carts/{cart_id}/quote":
        return world["approver"]
    if path.startswith("/orders/{order_id}"):
        return world["order_token"]
    return {}


def _path(world: dict, path: str, unknown: str | None = None, value: str | None = None) -> str:
    def fill(match):
        name = match.group(1)
        if name == unknown:
            return value or UNKNOWN[name]
        return world["ids"][PATH_IDS.get((path, name), name)]

    return re.sub(r"{(\w+)}", fill, path)


def _set(body, field_path: tuple, value):
    *parents, last = field_path
    target = body
    for part in parents:
        target = target[part]
    if value is MISSING:
        target.pop(last, None)
    elif isinstance(target, list) and last == len(target):
        target.append(value)
    else:
        target[last] = value
    return body


def _with_ids(value, ids: dict):
    """A case's value with `{product_id}` and the like replaced by the world's ids."""
    if isinstance(value, str) and re.fullmatch(r"{\w+}", value):
        return ids[value[1:-1]]
    if isinstance(value, list):
        return [_with_ids(item, ids) for item in value]
    return value


def _signed(path: str, raw: bytes) -> dict:
    if path == "/webhooks/stripe":
        return {"Stripe-Signature": stripe_signature(raw, WEBHOOK_SECRET)}
    if path == "/webhooks/bank-transfer":
        return {"X-Signature": hmac.new(BANK_SECRET.encode(), raw, hashlib.sha256).hexdigest()}
    return {}


class Snapshot:
    """Where the table's stream stands (test-only: moto's in-process stream shard, where every write leaves a
    record with its old and new image) and, where the route touches it, the Cognito pool's users."""

    def __init__(self, world: dict, with_users: bool):
        self.position = len(_stream_records())
        self.users = _users(world["pool"].pool_id) if with_users else None

    def changes(self, other: "Snapshot") -> list[str]:
        written = _stream_records()[self.position:other.position]
        changed = [f"{record['eventName']} {record['dynamodb']['Keys']}" for record in written
                   if not _on_purpose(record["dynamodb"]["Keys"])]
        if self.users != other.users:
            changed.append(f"cognito users: {self.users} -> {other.users}")
        return changed

    def restore(self, now: "Snapshot") -> None:
        """Undo what a maybe-valid case wrote (newest first), for the cases after it."""
        import os

        dynamodb = boto3.client("dynamodb")
        for record in reversed(_stream_records()[self.position:now.position]):
            old = record["dynamodb"].get("OldImage")
            if old is None:
                dynamodb.delete_item(TableName=os.environ["TABLE_NAME"], Key=record["dynamodb"]["Keys"])
            else:
                dynamodb.put_item(TableName=os.environ["TABLE_NAME"], Item=old)


def _stream_records() -> list[dict]:
    import os

    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.dynamodb.models import dynamodb_backends

    # Looked up each time: moto replaces the table with a copy when a transaction is cancelled.
    table = dynamodb_backends[DEFAULT_ACCOUNT_ID][os.environ["AWS_DEFAULT_REGION"]].get_table(os.environ["TABLE_NAME"])
    return [record.to_json() for record in table.stream_shard.items]


def _on_purpose(keys: dict) -> bool:
    """What a refused request writes on purpose: gift-card lookups count the caller's attempts, failed ones above
    all (the rate limit of GET /gift-cards/{code}/balance and POST /carts/{id}/gift-cards); a keyed POST keeps its
    4xx answer for the key's replays (chalicelib/idempotency.py)."""
    return keys["PK"]["S"].startswith(("LOOKUPS#", "IDEMPOTENCY#"))


def _users(pool_id: str) -> list:
    cognito = boto3.client("cognito-idp")
    users = cognito.list_users(UserPoolId=pool_id)["Users"]
    groups = {group["GroupName"]: {user["Username"] for user in cognito.list_users_in_group(
        UserPoolId=pool_id, GroupName=group["GroupName"])["Users"]}
        for group in cognito.list_groups(UserPoolId=pool_id)["Groups"]}
    return sorted((user["Username"], user["Enabled"], sorted(a["Name"] + "=" + a["Value"] for a in user["Attributes"]),
                   sorted(name for name, members in groups.items() if user["Username"] in members))
                  for user in users)


TOUCHES_USERS = ("/admin/staff", "/admin/companies/{company_id}/buyers")


@pytest.mark.parametrize(("method", "path"), sorted(BODIES))
def test_each_valid_body_is_accepted_in_the_world(world, method, path):
    """Sent as it is, each valid body succeeds (and is undone), so a case that breaks one field of it is refused
    for that field, not for the world's state."""
    api = world["api"]
    raw = json.dumps(BODIES[(method, path)](world["ids"])).encode()
    before = Snapshot(world, False)
    answer = api.request(method, _path(world, path), raw=raw, headers={**_headers(world, method, path),
                                                                        **_signed(path, raw)})
    before.restore(Snapshot(world, False))
    assert answer.status_code < 300, (answer.status_code, answer.data)


@pytest.mark.parametrize(("method", "path", "kind", "payload", "expect"), CASES)
def test_bad_input_is_a_4xx_envelope_and_changes_nothing(world, method, path, kind, payload, expect):
    api = world["api"]
    headers = dict(_headers(world, method, path))
    url, raw = _path(world, path), None
    if kind == "not_json":
        raw = b'{"this is": not json'
    elif kind == "raw":
        raw = json.dumps(payload).encode()
    elif kind == "field":
        # A deep copy: a baseline shares dicts with other modules (tests.conftest ADDRESS); changing them in
        # place broke every later test of the worker that used them.
        body = copy.deepcopy(_baseline(method, path, world["ids"]))
        for field_path, value in payload:
            body = _set(body, field_path, _with_ids(value, world["ids"]))
        raw = json.dumps(body).encode()
    elif kind == "unknown_id":
        url = _path(world, path, unknown=payload[0], value=payload[1])
        body = _baseline(method, path, world["ids"])
        raw = json.dumps(body).encode() if body is not None else None
    elif kind == "form":  # a valid body, sent as a form
        raw = json.dumps(_baseline(method, path, world["ids"])).encode()
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    elif kind == "keyed":  # a valid body under a key of 256 characters, or garbage under a good key
        key, raw = payload
        headers["Idempotency-Key"] = key or f"sweep-{uuid.uuid4()}"
        raw = raw or json.dumps(_baseline(method, path, world["ids"])).encode()
    elif kind == "query":
        from urllib.parse import urlencode

        url += "?" + urlencode(dict(payload))
    if raw is not None:
        headers |= _signed(path, raw)
    before = Snapshot(world, path.startswith(TOUCHES_USERS)) if kind != "query" else None
    answer = api.raw.http.request(method, url, body=raw if raw is not None else b"",
                                  headers={"Content-Type": "application/json"} | headers)
    try:
        answer.data = json.loads(answer.body)
    except ValueError:  # a CSV or feed answered: the assertions below say what was wrong
        answer.data = answer.body[:200]
    after = Snapshot(world, path.startswith(TOUCHES_USERS)) if kind != "query" else None
    changes = before.changes(after) if before else []
    if changes:
        before.restore(after)
    assert answer.status_code < 500, (answer.status_code, answer.data)
    if expect == "hostile":
        return
    if expect == "acknowledged" and answer.status_code < 300:
        assert not changes, (answer.status_code, answer.data, changes)
        return
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.data)
    error = (answer.data or {}).get("error") if isinstance(answer.data, dict) else None
    assert isinstance(error, dict) and isinstance(error.get("code"), str) and isinstance(error.get("message"), str), \
        answer.data
    assert not changes, (answer.status_code, answer.data, changes)
