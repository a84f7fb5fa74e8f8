"""Cart routes: a storefront's cart from creation to a cart ready for checkout."""

import re
import time

import boto3
import pytest

from chalicelib.errors import CartChanged
from chalicelib.models import MAX_LINES, CartLineRecord
from chalicelib.repository import carts as cart_store
from chalicelib.services import carts as cart_service
from tests.conftest import ADDRESS, ADMIN, make_cart, make_product, product_body, ready_cart


def add(client, cart_id: str, sku: str, quantity):
    return client.post(f"/carts/{cart_id}/lines", {"sku": sku, "quantity": quantity})


def lines_of(cart: dict) -> list[tuple[str, int]]:
    return [(line["sku"], line["quantity"]) for line in cart["lines"]]


def set_stored(aws: dict, cart_id: str, **values) -> None:
    """Change attributes of the stored cart item directly (arranging a state the API cannot reach)."""
    names = {f"#{name}": name for name in values}
    boto3.resource("dynamodb").Table(aws["TableName"]).update_item(
        Key={"PK": f"CART#{cart_id}", "SK": "CART"},
        UpdateExpression="SET " + ", ".join(f"#{name} = :{name}" for name in values),
        ExpressionAttributeNames=names, ExpressionAttributeValues={f":{k}": v for k, v in values.items()})


# --- POST /carts, GET /carts/{id} ---------------------------------------------------------------------


def test_creating_a_cart_answers_201_with_an_empty_open_cart_in_the_default_currency(client):
    answer = client.post("/carts", {})

    assert answer.status_code == 201
    cart = answer.data
    assert cart["status"] == "open"
    assert cart["currency"] == "EUR"
    assert cart["lines"] == []
    assert (cart["subtotal"], cart["discount_total"], cart["shipping_total"], cart["tax_total"], cart["total"]) == (
        0, 0, 0, 0, 0)
    assert (cart["email"], cart["shipping_address"], cart["shipping_method"], cart["order_id"]) == (
        None, None, None, None)
    assert {m["id"] for m in cart["available_shipping_methods"]} == {"standard", "express"}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", cart["created_at"])
    assert cart["expires_at"] > cart["created_at"]


def test_a_cart_without_a_body_is_created_too(client):
    answer = client.request("POST", "/carts")

    assert answer.status_code == 201


def test_a_cart_can_be_created_in_another_sold_currency_with_an_email(client):
    cart = make_cart(client, currency="USD", email="ada@example.com")

    assert cart["currency"] == "USD"
    assert cart["email"] == "ada@example.com"
    assert [m["id"] for m in cart["available_shipping_methods"]] == ["standard", "express"]


@pytest.mark.parametrize("currency", ["JPY", "eur", "EURO", 978])
def test_a_currency_not_sold_here_is_400(client, currency):
    answer = client.post("/carts", {"currency": currency})

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == "invalid_request"
    assert answer.data["error"]["param"] == "currency"


@pytest.mark.parametrize("email", ["not-an-email", "a@b", "two@@example.com", "sp ace@example.com", "", 7])
def test_an_invalid_email_is_400(client, email):
    answer = client.post("/carts", {"email": email})

    assert answer.status_code == 400
    assert answer.data["error"]["param"] == "email"


def test_a_created_cart_reads_back_the_same(client):
    cart = make_cart(client, email="ada@example.com")

    answer = client.get(f"/carts/{cart['id']}")

    assert answer.status_code == 200
    assert answer.data == cart


@pytest.mark.parametrize("cart_id", ["cart_0123456789abcdef0123456789abcdef", "nope"])
def test_an_unknown_cart_is_404(client, cart_id):
    answer = client.get(f"/carts/{cart_id}")

    assert answer.status_code == 404
    assert answer.data["error"]["code"] == "resource_missing"


def test_cart_ids_are_128_random_bits_and_unique(client):
    ids = [make_cart(client)["id"] for _ in range(30)]

    assert all(re.fullmatch(r"cart_[0-9a-f]{32}", cart_id) for cart_id in ids)
    assert len(set(ids)) == len(ids)
    # Random, not a counter or a clock: the ids share no common prefix beyond "cart_".
    assert len({cart_id[5:9] for cart_id in ids}) > 1


def test_an_expired_cart_reads_as_missing(client, aws):
    cart = make_cart(client)
    set_stored(aws, cart["id"], expires_at=int(time.time()) - 60)

    assert client.get(f"/carts/{cart['id']}").status_code == 404
    assert add(client, cart["id"], "TEE-M", 1).status_code == 404


# --- POST /carts/{id}/lines ------------------------------------------------------------------------


def test_adding_a_line_prices_it_from_the_catalogue(client):
    product = make_product(client, sku_prefix="TEE", price=1999)
    cart = make_cart(client)

    answer = add(client, cart["id"], "TEE-M", 2)

    assert answer.status_code == 200
    expected = {"sku": "TEE-M", "product_id": product["id"], "title": "T-shirt – M", "quantity": 2,
                "unit_price": 1999, "line_total": 3998}
    assert [{field: line[field] for field in expected} for line in answer.data["lines"]] == [expected]
    assert answer.data["subtotal"] == 3998
    assert answer.data["total"] == 3998
    assert client.get(f"/carts/{cart['id']}").data == answer.data


def test_adding_a_sku_already_in_the_cart_adds_to_its_quantity(client):
    make_product(client, sku_prefix="TEE")
    cart = make_cart(client)
    add(client, cart["id"], "TEE-M", 2)
    add(client, cart["id"], "TEE-S", 1)

    answer = add(client, cart["id"], "TEE-M", 3)

    assert lines_of(answer.data) == [("TEE-M", 5), ("TEE-S", 1)]


@pytest.mark.parametrize("quantity", [0, 1000, -1, "2", 2.5, True, None, 2.0])
def test_a_quantity_that_is_not_an_integer_from_1_to_999_is_400(client, quantity):
    make_product(client, sku_prefix="TEE", on_hand=5000)
    cart = make_cart(client)

    answer = add(client, cart["id"], "TEE-M", quantity)

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == "invalid_request"
    assert answer.data["error"]["param"] == "quantity"
    assert client.get(f"/carts/{cart['id']}").data["lines"] == []


def test_a_missing_quantity_is_400(client):
    make_product(client, sku_prefix="TEE")
    cart = make_cart(client)

    answer = client.post(f"/carts/{cart['id']}/lines", {"sku": "TEE-M"})

    assert answer.status_code == 400
    assert answer.data["error"]["param"] == "quantity"


def test_adding_up_to_more_than_999_of_one_sku_is_400(client):
    make_product(client, sku_prefix="TEE", on_hand=5000)
    cart = make_cart(client)
    add(client, cart["id"], "TEE-M", 999)

    answer = add(client, cart["id"], "TEE-M", 1)

    assert answer.status_code == 400
    assert answer.data["error"]["param"] == "quantity"


def test_adding_an_unknown_sku_is_400_unknown_sku(client):
    cart = make_cart(client)

    answer = add(client, cart["id"], "NOPE-1", 1)

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == "unknown_sku"
    assert answer.data["error"]["param"] == "sku"


def test_adding_a_sku_of_an_inactive_product_is_400_unknown_sku(client):
    make_product(client, sku_prefix="TEE", active=False)
    cart = make_cart(client)

    answer = add(client, cart["id"], "TEE-M", 1)

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == "unknown_sku"


def test_adding_a_sku_priced_in_another_currency_is_400(client):
    make_product(client, sku_prefix="TEE", currency="USD")
    cart = make_cart(client, currency="EUR")

    answer = add(client, cart["id"], "TEE-M", 1)

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == "currency_mismatch"
    assert answer.data["error"]["param"] == "sku"


@pytest.mark.parametrize("sku", ["", "-TEE", "TEE M", "x" * 65])
def test_a_malformed_sku_is_400(client, sku):
    cart = make_cart(client)

    answer = add(client, cart["id"], sku, 1)

    assert answer.status_code == 400
    assert answer.data["error"]["param"] == "sku"


def test_adding_more_than_is_available_is_out_of_stock(client):
    make_product(client, sku_prefix="TEE", on_hand=2)
    cart = make_cart(client)

    answer = add(client, cart["id"], "TEE-M", 3)

    assert answer.status_code == 409
    assert answer.data["error"]["code"] == "out_of_stock"
    assert answer.data["error"]["param"] == "quantity"
    assert answer.data["error"]["message"] == "Only 2 of SKU TEE-M are left."
    assert client.get(f"/carts/{cart['id']}").data["lines"] == []


def test_adding_to_a_line_beyond_what_is_available_is_out_of_stock_and_keeps_the_line(client):
    make_product(client, sku_prefix="TEE", on_hand=5)
    cart = make_cart(client)
    add(client, cart["id"], "TEE-M", 4)

    answer = add(client, cart["id"], "TEE-M", 2)

    assert answer.status_code == 409
    assert answer.data["error"]["code"] == "out_of_stock"
    assert lines_of(client.get(f"/carts/{cart['id']}").data) == [("TEE-M", 4)]


def test_out_of_stock_says_is_left_for_a_single_unit(client):
    make_product(client, sku_prefix="TEE", on_hand=1)
    cart = make_cart(client)

    answer = add(client, cart["id"], "TEE-M", 2)

    assert answer.data["error"]["message"] == "Only 1 of SKU TEE-M is left."


def test_a_cart_holds_at_most_max_lines_lines(client):
    skus = [f"{prefix}-{i:02d}" for prefix in ("A", "B", "C") for i in range(50)][:MAX_LINES + 1]
    for prefix in ("A", "B", "C"):
        make_product(client, sku_prefix=prefix, sizes=[f"{i:02d}" for i in range(50)], on_hand=5)
    cart = make_cart(client)
    # All lines but the last allowed one written straight to the store: adding each through the API
    # takes minutes on moto (every change re-reads the price of every line).
    record = cart_store.get(cart["id"])
    cart_store.save(record.model_copy(update={"lines": [CartLineRecord(sku=sku, quantity=1)
                                                        for sku in skus[:MAX_LINES - 1]]}))

    last = add(client, cart["id"], skus[MAX_LINES - 1], 1)
    one_too_many = add(client, cart["id"], skus[MAX_LINES], 1)
    more_of_a_line = add(client, cart["id"], skus[0], 1)

    assert last.status_code == 200, last.data
    assert len(last.data["lines"]) == MAX_LINES
    assert one_too_many.status_code == 400
    assert one_too_many.data["error"]["code"] == "too_many_lines"
    assert more_of_a_line.status_code == 200
    assert lines_of(more_of_a_line.data)[0] == (skus[0], 2)
    assert len(more_of_a_line.data["lines"]) == MAX_LINES


def test_a_line_for_an_unknown_cart_is_404(client):
    make_product(client, sku_prefix="TEE")

    answer = add(client, "cart_0123456789abcdef0123456789abcdef", "TEE-M", 1)

    assert answer.status_code == 404
    assert answer.data["error"]["code"] == "resource_missing"


def test_a_checked_out_cart_cannot_change(client, aws):
    make_product(client, sku_prefix="TEE")
    cart = make_cart(client)
    set_stored(aws, cart["id"], status="checked_out")

    answer = add(client, cart["id"], "TEE-M", 1)

    assert answer.status_code == 409
    assert answer.data["error"]["code"] == "cart_checked_out"


# --- PATCH / DELETE /carts/{id}/lines/{sku} --------------------------------------------------------


def test_patching_a_line_sets_its_quantity(client):
    make_product(client, sku_prefix="TEE", price=1000)
    cart = make_cart(client)
    add(client, cart["id"], "TEE-S", 1)
    add(client, cart["id"], "TEE-M", 2)

    answer = client.patch(f"/carts/{cart['id']}/lines/TEE-S", {"quantity": 7})

    assert answer.status_code == 200
    assert lines_of(answer.data) == [("TEE-S", 7), ("TEE-M", 2)]
    assert answer.data["subtotal"] == 9000


def test_patching_a_line_to_zero_removes_it(client):
    make_product(client, sku_prefix="TEE")
    cart = make_cart(client)
    add(client, cart["id"], "TEE-S", 1)
    add(client, cart["id"], "TEE-M", 2)

    answer = client.patch(f"/carts/{cart['id']}/lines/TEE-S", {"quantity": 0})

    assert answer.status_code == 200
    assert lines_of(answer.data) == [("TEE-M", 2)]


def test_patching_a_sku_not_in_the_cart_is_404(client):
    make_product(client, sku_prefix="TEE")
    cart = make_cart(client)
    add(client, cart["id"], "TEE-M", 1)

    answer = client.patch(f"/carts/{cart['id']}/lines/TEE-S", {"quantity": 1})

    assert answer.status_code == 404
    assert answer.data["error"]["code"] == "resource_missing"


def test_patching_a_line_beyond_what_is_available_is_out_of_stock(client):
    make_product(client, sku_prefix="TEE", on_hand=3)
    cart = make_cart(client)
    add(client, cart["id"], "TEE-M", 1)

    answer = client.patch(f"/carts/{cart['id']}/lines/TEE-M", {"quantity": 4})

    assert answer.status_code == 409
    assert answer.data["error"]["code"] == "out_of_stock"
    assert answer.data["error"]["param"] == "quantity"


@pytest.mark.parametrize("body", [{"quantity": -1}, {"quantity": 1000}, {"quantity": "1"}, {}])
def test_patching_a_line_with_an_invalid_quantity_is_400(client, body):
    make_product(client, sku_prefix="TEE")
    cart = make_cart(client)
    add(client, cart["id"], "TEE-M", 1)

    answer = client.patch(f"/carts/{cart['id']}/lines/TEE-M", body)

    assert answer.status_code == 400
    assert answer.data["error"]["param"] == "quantity"


def test_deleting_a_line_removes_it(client):
    make_product(client, sku_prefix="TEE", price=1000)
    cart = make_cart(client)
    add(client, cart["id"], "TEE-S", 1)
    add(client, cart["id"], "TEE-M", 2)

    answer = client.delete(f"/carts/{cart['id']}/lines/TEE-S")

    assert answer.status_code == 200
    assert lines_of(answer.data) == [("TEE-M", 2)]
    assert answer.data["subtotal"] == 2000
    assert client.get(f"/carts/{cart['id']}").data == answer.data


def test_deleting_a_sku_not_in_the_cart_is_404(client):
    cart = make_cart(client)

    answer = client.delete(f"/carts/{cart['id']}/lines/TEE-M")

    assert answer.status_code == 404
    assert answer.data["error"]["code"] == "resource_missing"


def test_a_line_whose_sku_was_retired_can_still_be_removed(client):
    product = make_product(client, sku_prefix="TEE")
    cart = make_cart(client)
    add(client, cart["id"], "TEE-S", 1)
    client.put(f"/admin/products/{product['id']}", product_body(sku_prefix="TEE", sizes=("M",)), headers=ADMIN)

    answer = client.delete(f"/carts/{cart['id']}/lines/TEE-S")

    assert answer.status_code == 200
    assert answer.data["lines"] == []


# --- PATCH /carts/{id} ---------------------------------------------------------------------------


def test_patching_the_email_sets_it(client):
    cart = make_cart(client)

    answer = client.patch(f"/carts/{cart['id']}", {"email": "grace@example.com"})

    assert answer.status_code == 200
    assert answer.data["email"] == "grace@example.com"


def test_patching_an_invalid_email_is_400(client):
    cart = make_cart(client)

    answer = client.patch(f"/carts/{cart['id']}", {"email": "grace"})

    assert answer.status_code == 400
    assert answer.data["error"]["param"] == "email"


def test_patching_the_shipping_address_sets_it_and_taxes_for_its_country(client):
    make_product(client, sku_prefix="TEE", price=1000)
    cart = make_cart(client)
    add(client, cart["id"], "TEE-M", 1)

    answer = client.patch(f"/carts/{cart['id']}", {"shipping_address": ADDRESS | {"line2": "Flat 3"}})

    assert answer.status_code == 200
    assert answer.data["shipping_address"] == ADDRESS | {"line2": "Flat 3", "region": None}
    assert answer.data["tax_total"] == 190  # 19 % German VAT on 10.00


@pytest.mark.parametrize(("address", "param"), [
    (ADDRESS | {"country": "de"}, "shipping_address.country"),
    (ADDRESS | {"country": "DEU"}, "shipping_address.country"),
    (ADDRESS | {"phone": "+49 30 1234"}, "shipping_address.phone"),
    ({k: v for k, v in ADDRESS.items() if k != "city"}, "shipping_address.city"),
    (ADDRESS | {"name": "  "}, "shipping_address.name"),
    ("Berlin", "shipping_address"),
])
def test_an_invalid_shipping_address_is_400_naming_the_field(client, address, param):
    cart = make_cart(client)

    answer = client.patch(f"/carts/{cart['id']}", {"shipping_address": address})

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == "invalid_request"
    assert answer.data["error"]["param"] == param


def test_patching_a_known_shipping_method_adds_its_price(client):
    make_product(client, sku_prefix="TEE", price=1000)
    cart = make_cart(client)
    add(client, cart["id"], "TEE-M", 1)

    answer = client.patch(f"/carts/{cart['id']}", {"shipping_method": "express"})

    assert answer.status_code == 200
    assert answer.data["shipping_method"] == "express"
    assert answer.data["shipping_total"] == 1295
    assert answer.data["total"] == 1000 + 1295


def test_patching_an_unknown_shipping_method_is_400(client):
    cart = make_cart(client)

    answer = client.patch(f"/carts/{cart['id']}", {"shipping_method": "teleport"})

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == "unknown_shipping_method"
    assert answer.data["error"]["param"] == "shipping_method"


def test_patching_one_field_leaves_the_others(client):
    make_product(client, sku_prefix="TEE")
    cart = ready_cart(client, {"TEE-M": 1})

    answer = client.patch(f"/carts/{cart['id']}", {"email": "grace@example.com"})

    assert answer.data["shipping_address"] == cart["shipping_address"]
    assert answer.data["shipping_method"] == "standard"
    assert lines_of(answer.data) == [("TEE-M", 1)]


def test_patching_with_null_clears_email_address_and_method(client):
    make_product(client, sku_prefix="TEE", price=1000)
    cart = ready_cart(client, {"TEE-M": 1})
    assert (cart["tax_total"], cart["shipping_total"]) == (284, 495)  # 19 % of 14.95

    answer = client.patch(f"/carts/{cart['id']}", {"email": None, "shipping_address": None, "shipping_method": None})

    assert answer.status_code == 200
    assert (answer.data["email"], answer.data["shipping_address"], answer.data["shipping_method"]) == (
        None, None, None)
    assert (answer.data["shipping_total"], answer.data["tax_total"], answer.data["total"]) == (0, 0, 1000)
    assert client.get(f"/carts/{cart['id']}").data == answer.data


def test_patching_an_unknown_cart_is_404(client):
    answer = client.patch("/carts/cart_0123456789abcdef0123456789abcdef", {"email": "ada@example.com"})

    assert answer.status_code == 404
    assert answer.data["error"]["code"] == "resource_missing"


# --- what a client may not send ---------------------------------------------------------------------


@pytest.mark.parametrize(("method", "path", "body", "param"), [
    ("POST", "/carts", {"id": "cart_mine"}, "id"),
    ("POST", "/carts", {"status": "checked_out"}, "status"),
    ("POST", "/carts/{id}/lines", {"sku": "TEE-M", "quantity": 1, "price": 1}, "price"),
    ("POST", "/carts/{id}/lines", {"sku": "TEE-M", "quantity": 1, "unit_price": 1}, "unit_price"),
    ("PATCH", "/carts/{id}/lines/TEE-M", {"quantity": 1, "line_total": 1}, "line_total"),
    ("PATCH", "/carts/{id}", {"total": 1}, "total"),
    ("PATCH", "/carts/{id}", {"subtotal": 1}, "subtotal"),
    ("PATCH", "/carts/{id}", {"status": "open"}, "status"),
    ("PATCH", "/carts/{id}", {"lines": []}, "lines"),
    ("PATCH", "/carts/{id}", {"colour": "red"}, "colour"),
])
def test_prices_totals_statuses_and_unknown_fields_from_the_client_are_400(client, method, path, body, param):
    make_product(client, sku_prefix="TEE")
    cart = make_cart(client)
    add(client, cart["id"], "TEE-M", 1)

    answer = client.request(method, path.format(id=cart["id"]), body)

    assert answer.status_code == 400
    assert answer.data["error"]["code"] == "invalid_request"
    assert answer.data["error"]["param"] == param
    assert lines_of(client.get(f"/carts/{cart['id']}").data) == [("TEE-M", 1)]


def test_prices_come_from_the_catalogue_at_the_time_of_the_read(client):
    product = make_product(client, sku_prefix="TEE", price=1000)
    cart = ready_cart(client, {"TEE-M": 2})
    assert (cart["subtotal"], cart["tax_total"], cart["total"]) == (2000, 474, 2000 + 495 + 474)

    client.put(f"/admin/products/{product['id']}", product_body(sku_prefix="TEE", price=3000), headers=ADMIN)
    answer = client.get(f"/carts/{cart['id']}")

    assert answer.data["lines"][0]["unit_price"] == 3000
    assert answer.data["lines"][0]["line_total"] == 6000
    assert answer.data["subtotal"] == 6000
    assert answer.data["shipping_total"] == 0  # over the free-shipping threshold now
    assert answer.data["tax_total"] == 1140
    assert answer.data["total"] == 6000 + 1140


def test_a_line_of_a_deactivated_product_drops_out_of_the_cart_totals(client):
    tee = make_product(client, sku_prefix="TEE", price=1000)
    make_product(client, sku_prefix="MUG", price=500, title="Mug")
    cart = make_cart(client)
    add(client, cart["id"], "TEE-M", 1)
    add(client, cart["id"], "MUG-M", 1)

    client.put(f"/admin/products/{tee['id']}", product_body(sku_prefix="TEE", price=1000, active=False), headers=ADMIN)
    answer = client.get(f"/carts/{cart['id']}")

    assert lines_of(answer.data) == [("MUG-M", 1)]
    assert answer.data["subtotal"] == 500


# --- optimistic concurrency ------------------------------------------------------------------------


def test_saving_a_cart_read_before_another_change_raises_cart_changed(aws):
    cart_id = cart_service.create("EUR", None).id
    first = cart_store.get(cart_id)
    stale = cart_store.get(cart_id)
    cart_store.save(first.model_copy(update={"email": "first@example.com"}))

    with pytest.raises(CartChanged):
        cart_store.save(stale.model_copy(update={"email": "stale@example.com"}))

    stored = cart_store.get(cart_id)
    assert stored.email == "first@example.com"
    assert stored.version == first.version + 1


def test_saving_bumps_the_version_so_the_next_save_needs_a_fresh_read(aws):
    cart_id = cart_service.create("EUR", None).id
    record = cart_store.get(cart_id)

    saved = cart_store.save(record)
    again = cart_store.save(saved)

    assert (record.version, saved.version, again.version) == (0, 1, 2)
    assert cart_store.get(cart_id).version == 2


def test_a_checked_out_cart_cannot_be_saved(aws):
    cart_id = cart_service.create("EUR", None).id
    record = cart_store.get(cart_id)
    set_stored(aws, cart_id, status="checked_out")

    with pytest.raises(CartChanged):
        cart_store.save(record)
