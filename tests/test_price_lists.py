"""B2B price lists: tiers and their boundaries, minimum quantity and step, the price resolution order in a
buyer's cart and order, CSV import, and reverse charge (tax 0) by the company's VAT id."""

import pytest

from chalicelib.models.companies import SkuPrice, quantity_problem, tier_price
from tests.b2b_support import account_cart, add_buyer, make_company
from tests.conftest import ADDRESS, ADMIN, make_product, ready_cart
from tests.customers_support import bearer

TIERS = [{"min_quantity": 1, "price": 1200}, {"min_quantity": 10, "price": 1100}, {"min_quantity": 50, "price": 990}]


@pytest.mark.parametrize("quantity, price, source", [
    (1, 1200, "price_list"), (9, 1200, "price_list"), (10, 1100, "tier"), (49, 1100, "tier"),
    (50, 990, "tier"), (999, 990, "tier"),
])
def test_the_tier_for_a_quantity_is_the_highest_one_it_reaches(quantity, price, source):
    assert tier_price(SkuPrice.model_validate({"sku": "BOLT", "tiers": TIERS}), quantity) == (price, source)


def test_minimum_quantity_and_step():
    entry = SkuPrice.model_validate({"sku": "BOLT", "tiers": TIERS, "min_quantity": 10, "step": 5})
    assert quantity_problem(entry, 9) and quantity_problem(entry, 12)
    assert quantity_problem(entry, 10) is None and quantity_problem(entry, 15) is None
    assert quantity_problem(None, 1) is None


def price_list(api, companies, prices, currency="EUR", name="Acme 2027") -> dict:
    answer = api.post("/admin/price-lists", {"name": name, "currency": currency, "companies": companies,
                                             "prices": prices}, headers=ADMIN)
    assert answer.status_code == 201, answer.data
    return answer.data


def test_the_shop_creates_reads_lists_and_replaces_a_price_list(client):
    company = make_company(client)
    created = price_list(client, [company["id"]], [{"sku": "BOLT-M8", "tiers": TIERS, "step": 10}])
    assert created["id"].startswith("pl_") and created["prices"][0]["step"] == 10
    assert client.get(f"/admin/price-lists/{created['id']}", headers=ADMIN).data["name"] == "Acme 2027"
    assert [p["id"] for p in client.get("/admin/price-lists", headers=ADMIN).data["data"]] == [created["id"]]
    replaced = client.put(f"/admin/price-lists/{created['id']}", {"name": "Acme 2028", "currency": "EUR",
                                                                  "companies": [], "prices": []}, headers=ADMIN)
    assert replaced.status_code == 200 and replaced.data["name"] == "Acme 2028" and replaced.data["version"] == 1
    assert client.put("/admin/price-lists/pl_nope", {"name": "X", "currency": "EUR"}, headers=ADMIN).status_code == 404


@pytest.mark.parametrize("prices, param", [
    ([{"sku": "A", "tiers": [{"min_quantity": 2, "price": 100}]}], "prices.0.tiers.0.min_quantity"),
    ([{"sku": "A", "tiers": [{"min_quantity": 1, "price": 100}, {"min_quantity": 1, "price": 90}]}],
     "prices.0.tiers.1.min_quantity"),
    ([{"sku": "A", "tiers": TIERS}, {"sku": "A", "tiers": TIERS}], "prices.1.sku"),
    ([{"sku": "A", "tiers": []}], "prices.0.tiers"),
    ([{"sku": "A", "tiers": [{"min_quantity": 1, "price": -1}]}], "prices.0.tiers.0.price"),
    ([{"sku": "A", "tiers": TIERS, "step": 0}], "prices.0.step"),
])
def test_bad_price_lists_are_a_400_naming_the_param_and_nothing_is_written(client, prices, param):
    answer = client.post("/admin/price-lists", {"name": "X", "currency": "EUR", "prices": prices}, headers=ADMIN)
    assert answer.status_code == 400, answer.data
    assert answer.data["error"]["param"] == param
    assert client.get("/admin/price-lists", headers=ADMIN).data["data"] == []


def test_a_company_has_one_price_list_per_currency(client):
    company = make_company(client)
    price_list(client, [company["id"]], [])
    second = client.post("/admin/price-lists", {"name": "Other", "currency": "EUR", "companies": [company["id"]]},
                         headers=ADMIN)
    assert second.status_code == 409 and second.data["error"]["param"] == "companies.0"
    unknown = client.post("/admin/price-lists", {"name": "Other", "currency": "EUR", "companies": ["co_nope"]},
                          headers=ADMIN)
    assert unknown.status_code == 400 and unknown.data["error"]["param"] == "companies.0"
    assert price_list(client, [company["id"]], [], currency="USD")["currency"] == "USD"


def test_a_buyers_cart_is_priced_by_the_company_list_then_its_tiers_else_publicly(client, pool):
    make_product(client, sku_prefix="BOLT", sizes=("M8", "M10"), price=1500, on_hand=500)
    company = make_company(client)
    price_list(client, [company["id"]], [{"sku": "BOLT-M8", "tiers": TIERS}])
    ada = add_buyer(client, pool, company["id"], "ada@acme.example")
    cart = account_cart(client, ada, {"BOLT-M8": 9, "BOLT-M10": 2})
    lines = {line["sku"]: line for line in cart["lines"]}
    assert (lines["BOLT-M8"]["unit_price"], lines["BOLT-M8"]["price_source"]) == (1200, "price_list")
    assert (lines["BOLT-M10"]["unit_price"], lines["BOLT-M10"]["price_source"]) == (1500, "public")
    for quantity, price, source in ((10, 1100, "tier"), (49, 1100, "tier"), (50, 990, "tier"), (1, 1200, "price_list")):
        answer = client.patch(f"/carts/{cart['id']}/lines/BOLT-M8", {"quantity": quantity})
        line = next(line for line in answer.data["lines"] if line["sku"] == "BOLT-M8")
        assert (line["unit_price"], line["price_source"], line["line_total"]) == (price, source, price * quantity)
    # Anybody else pays the public price.
    guest = ready_cart(client, {"BOLT-M8": 10})
    assert [(line["unit_price"], line["price_source"]) for line in guest["lines"]] == [(1500, "public")]


def test_minimum_and_step_violations_are_a_400_naming_the_line(client, pool):
    make_product(client, sku_prefix="BOLT", sizes=("M8", "M10"), price=1500, on_hand=500)
    company = make_company(client)
    price_list(client, [company["id"]], [{"sku": "BOLT-M8", "tiers": TIERS, "min_quantity": 10, "step": 5}])
    ada = add_buyer(client, pool, company["id"], "ada@acme.example")
    cart = account_cart(client, ada, {"BOLT-M10": 1})
    below = client.post(f"/carts/{cart['id']}/lines", {"sku": "BOLT-M8", "quantity": 5})
    assert below.status_code == 400 and below.data["error"]["param"] == "lines.1.quantity", below.data
    assert client.post(f"/carts/{cart['id']}/lines", {"sku": "BOLT-M8", "quantity": 10}).status_code == 200
    off_step = client.patch(f"/carts/{cart['id']}/lines/BOLT-M8", {"quantity": 12})
    assert off_step.status_code == 400 and off_step.data["error"]["param"] == "lines.1.quantity"
    assert client.get(f"/carts/{cart['id']}").data["lines"][1]["quantity"] == 10  # nothing changed
    # A rule added after the line was put in the cart is enforced at checkout.
    client.patch(f"/carts/{cart['id']}", {"email": "ada@acme.example"})
    lists = client.get("/admin/price-lists", headers=ADMIN).data["data"]
    client.put(f"/admin/price-lists/{lists[0]['id']}", {
        "name": "Acme", "currency": "EUR", "companies": [company["id"]],
        "prices": [{"sku": "BOLT-M8", "tiers": TIERS}, {"sku": "BOLT-M10", "tiers": TIERS, "min_quantity": 2}]},
        headers=ADMIN)
    refused = client.post(f"/carts/{cart['id']}/checkout", {}, headers=ada)
    assert refused.status_code == 400 and refused.data["error"]["param"] == "lines.0.quantity", refused.data


def test_a_buyers_order_keeps_the_list_prices_and_the_company_sees_it_but_no_one_else(shop, pool):
    make_product(shop, sku_prefix="BOLT", sizes=("M8",), price=1500, on_hand=500)
    acme, other = make_company(shop), make_company(shop, name="Other SARL", vat_id="FR12345678901")
    price_list(shop, [acme["id"]], [{"sku": "BOLT-M8", "tiers": TIERS}])
    ada = add_buyer(shop, pool, acme["id"], "ada@acme.example")
    bob = add_buyer(shop, pool, acme["id"], "bob@acme.example")
    eve = add_buyer(shop, pool, other["id"], "eve@other.example")
    cart = account_cart(shop, ada, {"BOLT-M8": 10})
    placed = shop.post(f"/carts/{cart['id']}/checkout", {}, headers=ada)
    assert placed.status_code == 201, placed.data
    order = placed.data["order"]
    assert order["company_id"] == acme["id"] and order["lines"][0]["unit_price"] == 1100
    assert order["lines"][0]["price_source"] == "tier" and order["subtotal"] == 11000
    assert [o["id"] for o in shop.get("/company/orders", headers=bob).data["data"]] == [order["id"]]
    assert shop.get("/company/orders", headers=eve).data["data"] == []
    outsider = bearer(pool.sign_up("mallory@example.com")["id"])
    assert shop.get("/company/orders", headers=outsider).status_code == 404
    assert shop.get(f"/orders/{order['id']}", headers=outsider).status_code in (401, 404)


def test_a_price_list_is_imported_from_csv(client):
    created = price_list(client, [], [])
    csv = "sku,min_quantity,price,sku_min_quantity,step\nBOLT-M8,10,1100,,\nBOLT-M8,1,1200,1,1\nNUT-M8,1,50,100,100\n"
    answer = client.post(f"/admin/price-lists/{created['id']}/import", {"csv": csv}, headers=ADMIN)
    assert answer.status_code == 200, answer.data
    prices = {p["sku"]: p for p in answer.data["prices"]}
    assert [t["min_quantity"] for t in prices["BOLT-M8"]["tiers"]] == [1, 10]
    assert prices["NUT-M8"]["min_quantity"] == 100 and prices["NUT-M8"]["step"] == 100
    bad = client.post(f"/admin/price-lists/{created['id']}/import", {"csv": "sku,min_quantity,price\nA,1,x\n"},
                      headers=ADMIN)
    assert bad.status_code == 400 and bad.data["error"]["param"] == "rows.1.price"
    header = client.post(f"/admin/price-lists/{created['id']}/import", {"csv": "sku,price\nA,1\n"}, headers=ADMIN)
    assert header.status_code == 400 and header.data["error"]["param"] == "rows.0"
    assert len(client.get(f"/admin/price-lists/{created['id']}", headers=ADMIN).data["prices"]) == 2


@pytest.mark.parametrize("vat_id, country, reverse_charge, tax", [
    ("FR12345678901", "FR", True, 0),        # another member state, valid VAT id: reverse charge
    ("DE123456789", "DE", False, 1900),      # the shop's own country: German VAT
    (None, "FR", False, 2000),               # an EU company without a VAT id: the destination's VAT
    ("CHE123456789", "US", False, 0),        # outside the EU: as usual (the destination's rate)
    ("CHE123456789", "FR", False, 2000),     # a non-EU id shipping into the EU: as usual
])
def test_reverse_charge_by_the_companys_vat_id(shop, pool, monkeypatch, vat_id, country, reverse_charge, tax):
    monkeypatch.setenv("SHOP_COUNTRY", "DE")
    from chalicelib import config

    config.reset()
    make_product(shop, sku_prefix="BOLT", sizes=("M8",), price=10000, on_hand=50)
    company = make_company(shop, vat_id=vat_id)
    ada = add_buyer(shop, pool, company["id"], "ada@acme.example")
    cart = account_cart(shop, ada, {"BOLT-M8": 1}, address=ADDRESS | {"country": country})
    assert cart["reverse_charge"] is reverse_charge
    assert cart["tax_total"] == (10000 * tax) // 10000
    placed = shop.post(f"/carts/{cart['id']}/checkout", {}, headers=ada)
    assert placed.status_code == 201, placed.data
    assert placed.data["order"]["reverse_charge"] is reverse_charge
    assert placed.data["order"]["tax_total"] == cart["tax_total"]


def test_a_customer_group_list_prices_its_segment_outside_companies_and_a_company_list_comes_first(client, pool):
    """Customer groups are the CRM's segments (the STATS item the relay keeps; written here directly)."""
    import boto3

    from chalicelib.models.customers import customer_id_for
    from chalicelib.repository import crm, dynamo

    make_product(client, sku_prefix="BOLT", sizes=("M8",), price=1500, on_hand=500)
    price_list(client, [], [{"sku": "BOLT-M8", "tiers": [{"min_quantity": 1, "price": 1400}]}], name="VIP")
    lists = client.get("/admin/price-lists", headers=ADMIN).data["data"]
    replaced = client.put(f"/admin/price-lists/{lists[0]['id']}", {
        "name": "VIP", "currency": "EUR", "customer_groups": ["vip"],
        "prices": [{"sku": "BOLT-M8", "tiers": [{"min_quantity": 1, "price": 1400}]}]}, headers=ADMIN)
    assert replaced.status_code == 200, replaced.data
    clash = client.post("/admin/price-lists", {"name": "Other", "currency": "EUR", "customer_groups": ["vip"]},
                        headers=ADMIN)
    assert clash.status_code == 409 and clash.data["error"]["param"] == "customer_groups.0"
    for email, segment in (("vip@example.com", "vip"), ("new@example.com", "new")):
        item = crm.stats_key(customer_id_for(email)) | {"id": customer_id_for(email), "email": email,
                                                        "segment": segment}
        boto3.client("dynamodb").put_item(TableName=dynamo.table(), Item=dynamo.to_item(item))
    vip = bearer(pool.sign_up("vip@example.com")["id"])
    newcomer = bearer(pool.sign_up("new@example.com")["id"])
    assert account_cart(client, vip, {"BOLT-M8": 2})["lines"][0]["unit_price"] == 1400
    assert account_cart(client, newcomer, {"BOLT-M8": 2})["lines"][0]["unit_price"] == 1500
    # A VIP who buys for a company gets the company's list (here none for BOLT-M8: the public price).
    company = make_company(client)
    client.post(f"/admin/companies/{company['id']}/buyers", {"email": "vip@example.com"}, headers=ADMIN)
    assert account_cart(client, vip, {"BOLT-M8": 2})["lines"][0]["unit_price"] == 1500
