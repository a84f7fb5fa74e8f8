"""The signed-in customer's routes (`/me`) against moto's Cognito and DynamoDB, and localstripe."""

from datetime import UTC, datetime, timedelta

import boto3
import pytest

from tests.conftest import ADDRESS, ADMIN, make_cart, make_product, ready_cart
from tests.customers_support import UNSUBSCRIBE_SECRET, bearer


def checkout(api, email="ada@example.com", lines=None, headers=None, **body):
    cart = ready_cart(api, lines or {"TEE-S": 1}, email=email)
    answer = api.post(f"/carts/{cart['id']}/checkout", body, headers=headers)
    assert answer.status_code == 201, answer.data
    return answer.data


def test_the_customer_routes_need_a_token(client, pool):
    for method, path in (("GET", "/me"), ("PATCH", "/me"), ("GET", "/me/addresses"), ("GET", "/me/orders"),
                         ("POST", "/me/carts"), ("GET", "/me/export"), ("DELETE", "/me"),
                         ("PATCH", "/me/addresses/adr_x"), ("DELETE", "/me/addresses/adr_x")):
        answer = client.request(method, path, {} if method in ("POST", "PATCH") else None)
        assert answer.status_code == 401, (method, path)
        assert answer.data["error"]["code"] == "unauthenticated"


def test_a_new_customer_sees_an_empty_profile_and_sets_name_phone_and_consent(client, pool):
    tokens = pool.sign_up("Ada@Example.com")
    me = client.get("/me", headers=bearer(tokens["id"]))
    assert me.status_code == 200, me.data
    assert me.data["email"] == "ada@example.com" and me.data["id"].startswith("cus_")
    assert me.data["marketing_consent"] == {"granted": False, "at": None, "source": None}

    changed = client.patch("/me", {"name": "Ada Lovelace", "phone": "+49 30 1234567", "marketing_consent": True},
                           headers=bearer(tokens["id"]))
    assert changed.status_code == 200, changed.data
    assert changed.data["name"] == "Ada Lovelace" and changed.data["phone"] == "+49 30 1234567"
    assert changed.data["marketing_consent"]["granted"] is True
    assert changed.data["marketing_consent"]["source"] == "account" and changed.data["marketing_consent"]["at"]
    # The access token speaks for the same customer (its email read from the user record).
    again = client.get("/me", headers=bearer(tokens["access"]))
    assert again.data == changed.data

    from chalicelib.repository import customers

    assert customers.marketing_consent(me.data["id"]) is True


def test_bad_profile_input_is_a_400_naming_the_field(client, pool):
    tokens = pool.sign_up("ada@example.com")
    for body, param in (({"phone": "call me"}, "phone"), ({"marketing_consent": "yes"}, "marketing_consent"),
                        ({"email": "eve@example.com"}, "email"), ({"name": ""}, "name")):
        answer = client.patch("/me", body, headers=bearer(tokens["id"]))
        assert answer.status_code == 400 and answer.data["error"]["param"] == param, body
    assert client.get("/me", headers=bearer(tokens["id"])).data["name"] is None


def test_an_unverified_email_has_no_customer(client, pool):
    tokens = pool.sign_up("eve@example.com", verified=False)
    for token in tokens.values():
        answer = client.get("/me/orders", headers=bearer(token))
        assert answer.status_code == 403 and answer.data["error"]["code"] == "email_not_verified"


def test_the_address_book_keeps_one_default(client, pool):
    token = pool.sign_up("ada@example.com")["id"]
    first = client.post("/me/addresses", ADDRESS, headers=bearer(token))
    assert first.status_code == 201 and first.data["id"].startswith("adr_") and first.data["default"] is True
    second = client.post("/me/addresses", {**ADDRESS, "line1": "2 Side Street", "default": True},
                         headers=bearer(token))
    assert second.data["default"] is True
    book = client.get("/me/addresses", headers=bearer(token)).data["data"]
    assert {a["id"]: a["default"] for a in book} == {first.data["id"]: False, second.data["id"]: True}
    assert client.get("/me", headers=bearer(token)).data["default_address_id"] == second.data["id"]

    changed = client.patch(f"/me/addresses/{first.data['id']}", {"city": "Hamburg", "default": True},
                           headers=bearer(token))
    assert changed.status_code == 200 and changed.data["city"] == "Hamburg" and changed.data["default"] is True
    assert client.patch(f"/me/addresses/{first.data['id']}", {"country": "Germany"},
                        headers=bearer(token)).data["error"]["param"] == "country"
    assert client.delete(f"/me/addresses/{first.data['id']}", headers=bearer(token)).status_code == 204
    assert client.get("/me", headers=bearer(token)).data["default_address_id"] is None
    assert client.delete(f"/me/addresses/{first.data['id']}", headers=bearer(token)).status_code == 404


def test_guest_orders_with_the_verified_email_are_the_accounts_newest_first(shop, pool, monkeypatch):
    from chalicelib import clock

    make_product(shop)
    placed, real_now = [], clock.now
    for minutes in (3, 2, 1):  # a second apart at least: orders sort by their creation second
        monkeypatch.setattr(clock, "now", lambda m=minutes: datetime.now(UTC).replace(microsecond=0)
                            - timedelta(minutes=m))
        placed.append(checkout(shop, email="ADA@example.com "))
    monkeypatch.setattr(clock, "now", real_now)
    checkout(shop, email="bob@example.com")
    token = pool.sign_up("ada@example.com")["id"]
    first = shop.get("/me/orders?limit=2", headers=bearer(token))
    assert first.status_code == 200, first.data
    assert [o["id"] for o in first.data["data"]] == [placed[2]["order"]["id"], placed[1]["order"]["id"]]
    rest = shop.get(f"/me/orders?limit=2&cursor={first.data['next_cursor']}", headers=bearer(token))
    assert [o["id"] for o in rest.data["data"]] == [placed[0]["order"]["id"]] and rest.data["next_cursor"] is None
    customer_id = shop.get("/me", headers=bearer(token)).data["id"]
    assert all(o["customer_id"] == customer_id for o in first.data["data"])
    # The order page with the owner's token instead of the order token.
    order = shop.get(f"/orders/{placed[0]['order']['id']}", headers=bearer(token))
    assert order.status_code == 200 and order.data["id"] == placed[0]["order"]["id"]


def test_a_signed_in_checkout_records_the_customer_and_a_guests_consent_is_kept(shop, pool):
    make_product(shop)
    token = pool.sign_up("ada@example.com")["id"]
    customer_id = shop.get("/me", headers=bearer(token)).data["id"]
    signed_in = checkout(shop, email="ada.work@example.com", headers=bearer(token))
    assert signed_in["order"]["customer_id"] == customer_id
    assert shop.get("/me/orders", headers=bearer(token)).data["data"][0]["id"] == signed_in["order"]["id"]

    guest = checkout(shop, email="bob@example.com", marketing_consent=True)
    from chalicelib.models.customers import customer_id_for
    from chalicelib.repository import customers

    bob = customers.get_profile(customer_id_for("bob@example.com"))
    assert guest["order"]["customer_id"] == bob.id
    assert bob.marketing_consent.granted is True and bob.marketing_consent.source == "checkout"


def test_merging_a_guest_cart_sums_lines_capped_by_stock_and_is_idempotent(client, pool):
    from tests.growth_support import relay
    from tests.orders_support import Stream

    stream = Stream()
    make_product(client, on_hand=5)
    token = pool.sign_up("ada@example.com")["id"]
    account = make_cart(client)
    client.post(f"/carts/{account['id']}/lines", {"sku": "TEE-S", "quantity": 3})
    attached = client.post("/me/carts", {"cart_id": account["id"]}, headers=bearer(token))
    assert attached.status_code == 200, attached.data
    assert attached.data["id"] == account["id"] and attached.data["email"] == "ada@example.com"

    guest = make_cart(client)
    client.post(f"/carts/{guest['id']}/lines", {"sku": "TEE-S", "quantity": 4})
    client.post(f"/carts/{guest['id']}/lines", {"sku": "TEE-M", "quantity": 1})
    merged = client.post("/me/carts", {"cart_id": guest["id"]}, headers=bearer(token))
    assert merged.status_code == 200, merged.data
    assert merged.data["id"] == account["id"]
    assert {line["sku"]: line["quantity"] for line in merged.data["lines"]} == {"TEE-S": 5, "TEE-M": 1}
    assert merged.data["subtotal"] == 6 * 1999  # prices from the catalogue
    assert client.get(f"/carts/{guest['id']}").data["lines"] == []
    again = client.post("/me/carts", {"cart_id": guest["id"]}, headers=bearer(token))
    assert again.data["lines"] == merged.data["lines"]
    relay(client, stream)  # the account's items are nobody's model on the stream (a CART would be read as a cart)


def test_merging_a_guest_cart_keeps_the_gift_card_recipients_the_guest_cart_s_for_a_shared_sku(client, pool):
    body = {"title": "Gift card", "description": "", "active": True, "variants": [
        {"sku": sku, "title": sku, "price": price, "currency": "EUR", "gift_card": True}
        for sku, price in (("GIFT-25", 2500), ("GIFT-50", 5000))]}
    assert client.post("/admin/products", body, headers=ADMIN).status_code == 201
    token = pool.sign_up("ada@example.com")["id"]

    def cart_of(lines: dict[str, tuple[int, dict]]) -> dict:
        cart = make_cart(client)
        for sku, (quantity, recipient) in lines.items():
            answer = client.post(f"/carts/{cart['id']}/lines",
                                 {"sku": sku, "quantity": quantity, "gift_card": recipient})
            assert answer.status_code == 200, answer.data
        return cart

    alan, carol = ({"recipient_email": f"{name}@example.com", "message": None, "send_at": None}
                   for name in ("alan", "carol"))
    grace = {"recipient_email": "grace@example.com", "message": "Happy birthday!", "send_at": "2030-01-01T09:00:00Z"}
    account = cart_of({"GIFT-25": (1, alan), "GIFT-50": (1, carol)})
    assert client.post("/me/carts", {"cart_id": account["id"]}, headers=bearer(token)).status_code == 200
    guest = cart_of({"GIFT-25": (2, grace)})
    merged = client.post("/me/carts", {"cart_id": guest["id"]}, headers=bearer(token))
    assert merged.status_code == 200, merged.data
    lines = {line["sku"]: (line["quantity"], line.get("gift_card")) for line in merged.data["lines"]}
    assert lines == {"GIFT-25": (3, grace), "GIFT-50": (1, carol)}
    assert {line["sku"]: line["gift_card"] for line in client.get(f"/carts/{account['id']}").data["lines"]} == {
        "GIFT-25": grace, "GIFT-50": carol}  # stored so, not only answered

    fresh = pool.sign_up("bob@example.com")["id"]  # an account without a cart: the guest cart is attached as is
    other = cart_of({"GIFT-50": (1, grace)})
    attached = client.post("/me/carts", {"cart_id": other["id"]}, headers=bearer(fresh))
    assert [line["gift_card"] for line in attached.data["lines"]] == [grace]


def test_export_then_erasure_anonymises_orders_and_deletes_the_user(shop, pool):
    make_product(shop)
    token = pool.sign_up("ada@example.com")["id"]
    shop.patch("/me", {"name": "Ada", "marketing_consent": True}, headers=bearer(token))
    shop.post("/me/addresses", ADDRESS, headers=bearer(token))
    placed = checkout(shop)
    exported = shop.get("/me/export", headers=bearer(token))
    assert exported.status_code == 200
    assert exported.data["profile"]["name"] == "Ada" and len(exported.data["addresses"]) == 1
    assert [o["id"] for o in exported.data["orders"]] == [placed["order"]["id"]]

    assert shop.delete("/me", headers=bearer(token)).status_code == 204
    from chalicelib.repository import customers, orders

    customer_id = exported.data["customer_id"]
    assert customers.everything(customer_id) == [] and customers.marketing_consent(customer_id) is False
    order = orders.get(placed["order"]["id"])
    assert order.customer_id is None and "ada" not in order.email and order.shipping_address.name == "erased"
    assert (order.total, order.lines, order.created_at.isoformat()[:19]) == (
        placed["order"]["total"], orders.get(placed["order"]["id"]).lines, placed["order"]["created_at"][:19])
    with pytest.raises(boto3.client("cognito-idp").exceptions.UserNotFoundException):
        boto3.client("cognito-idp").admin_get_user(UserPoolId=pool.pool_id, Username="ada@example.com")


def test_one_click_unsubscribe_withdraws_consent(client, pool):
    from chalicelib import unsubscribe

    token = pool.sign_up("ada@example.com")["id"]
    customer_id = client.patch("/me", {"marketing_consent": True}, headers=bearer(token)).data["id"]
    link = unsubscribe.unsubscribe_link(customer_id)
    assert unsubscribe.headers(customer_id)["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    path = link.split("8000", 1)[1]
    # What a mail client sends for the one-click button (RFC 8058): a form body.
    answer = client.post(path, raw=b"List-Unsubscribe=One-Click",
                         headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert answer.status_code == 200 and answer.data == {"unsubscribed": True}
    consent = client.get("/me", headers=bearer(token)).data["marketing_consent"]
    assert consent["granted"] is False and consent["source"] == "unsubscribe"
    tampered = path[:-2] + ("AA" if not path.endswith("AA") else "BB")
    assert client.post(tampered).data["error"]["code"] == "invalid_token"
    assert UNSUBSCRIBE_SECRET not in link
