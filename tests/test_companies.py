"""B2B companies and buyers: admin routes, VAT id validation, the buyer's own view, and that nobody outside
a company sees it or its orders (IDOR)."""

import pytest

from chalicelib.models.companies import eu_vat_country, reverse_charged, vat_problem
from tests.b2b_support import BILLING, add_buyer, make_company
from tests.conftest import ADMIN
from tests.customers_support import bearer


@pytest.mark.parametrize("vat_id, country", [
    ("DE123456789", "DE"), ("de 123 456 789", "DE"), ("FR12345678901", "FR"), ("NL123456789B01", "NL"),
    ("EL123456789", "GR"), ("ATU12345678", "AT"), ("IE1234567WA", "IE"), ("XI123456789", "XI"),
])
def test_eu_vat_ids_of_the_right_format_name_their_member_state(vat_id, country):
    assert vat_problem(vat_id) is None
    assert eu_vat_country(vat_id) == country


@pytest.mark.parametrize("vat_id", ["DE12345678", "FR1234", "NL123456789X01", "GR123456789", "ATX12345678",
                                    "IT1234567890A", "DE-12345678A"])
def test_malformed_eu_vat_ids_are_refused(vat_id):
    assert vat_problem(vat_id) is not None
    assert eu_vat_country(vat_id) is None


def test_a_non_eu_tax_number_is_kept_but_has_no_member_state():
    assert vat_problem("CHE123456789") is None and eu_vat_country("CHE123456789") is None
    assert vat_problem("GB123456789") is None and eu_vat_country("GB123456789") is None


@pytest.mark.parametrize("vat_id, shop, expected", [
    ("FR12345678901", "DE", True),      # another member state, valid id
    ("DE123456789", "DE", False),       # same country as the shop
    ("FR1234", "DE", False),            # another member state, malformed id
    (None, "DE", False),                # no id at all
    ("CHE123456789", "DE", False),      # outside the EU
    ("FR12345678901", "US", False),     # the shop is outside the EU
])
def test_reverse_charge_needs_a_valid_vat_id_of_another_member_state(vat_id, shop, expected):
    assert reverse_charged(vat_id, shop) is expected


def test_the_shop_creates_lists_changes_and_reads_a_company(client):
    created = make_company(client, vat_id="de 123.456.789", payment_terms_days=30, credit_limit={"EUR": 500000})
    assert created["id"].startswith("co_") and created["vat_id"] == "DE123456789" and created["vat_country"] == "DE"
    assert created["credit_limit"] == {"EUR": 500000} and created["payment_terms_days"] == 30
    listed = client.get("/admin/companies", headers=ADMIN)
    assert [c["id"] for c in listed.data["data"]] == [created["id"]]
    changed = client.patch(f"/admin/companies/{created['id']}", {"name": "Acme AG", "vat_id": None}, headers=ADMIN)
    assert changed.status_code == 200, changed.data
    assert changed.data["name"] == "Acme AG" and changed.data["vat_id"] is None and changed.data["vat_country"] is None
    assert client.get(f"/admin/companies/{created['id']}", headers=ADMIN).data["name"] == "Acme AG"
    assert client.get("/admin/companies/co_nope", headers=ADMIN).status_code == 404


@pytest.mark.parametrize("body, param", [
    ({"name": "X", "billing_address": BILLING, "vat_id": "DE1234"}, "vat_id"),
    ({"name": "X", "billing_address": BILLING, "credit_limit": {"EUR": -1}}, "credit_limit.EUR"),
    ({"name": "X", "billing_address": BILLING, "credit_limit": {"euro": 1}}, "credit_limit.euro.[key]"),
    ({"name": "X", "billing_address": BILLING, "payment_terms_days": 400}, "payment_terms_days"),
    ({"name": "X"}, "billing_address"),
    ({"name": "X", "billing_address": BILLING, "credit_used": 0}, "credit_used"),
])
def test_bad_company_input_is_a_400_naming_the_param_and_creates_nothing(client, body, param):
    answer = client.post("/admin/companies", body, headers=ADMIN)
    assert answer.status_code == 400, answer.data
    assert answer.data["error"]["param"] == param
    assert client.get("/admin/companies", headers=ADMIN).data["data"] == []


def test_company_routes_need_the_admin_key_or_a_token(client):
    assert client.post("/admin/companies", {"name": "X", "billing_address": BILLING}).status_code == 401
    assert client.get("/company").status_code == 401
    assert client.get("/company/orders").status_code == 401


def test_a_buyer_sees_their_company_and_its_buyers(client, pool):
    company = make_company(client)
    ada = add_buyer(client, pool, company["id"], "ada@acme.example", role="approver")
    add_buyer(client, pool, company["id"], "bob@acme.example", spending_limit={"EUR": 10000})
    seen = client.get("/company", headers=ada)
    assert seen.status_code == 200, seen.data
    assert seen.data["id"] == company["id"] and seen.data["me"]["role"] == "approver"
    assert {b["email"]: b["spending_limit"] for b in seen.data["buyers"]} == {
        "ada@acme.example": None, "bob@acme.example": {"EUR": 10000}}


def test_adding_a_buyer_again_changes_their_role_and_another_company_is_a_409(client, pool):
    first, second = make_company(client), make_company(client, name="Other SARL", vat_id="FR12345678901")
    add_buyer(client, pool, first["id"], "ada@acme.example")
    again = client.post(f"/admin/companies/{first['id']}/buyers", {"email": "ada@acme.example", "role": "approver"},
                        headers=ADMIN)
    assert again.status_code == 201 and again.data["role"] == "approver"
    other = client.post(f"/admin/companies/{second['id']}/buyers", {"email": "ADA@acme.example"}, headers=ADMIN)
    assert other.status_code == 409 and other.data["error"]["param"] == "email"
    bad = client.post(f"/admin/companies/{first['id']}/buyers", {"email": "x@y.example", "role": "boss"},
                      headers=ADMIN)
    assert bad.status_code == 400 and bad.data["error"]["param"] == "role"
    missing = client.post("/admin/companies/co_nope/buyers", {"email": "x@y.example"}, headers=ADMIN)
    assert missing.status_code == 404


def test_nobody_outside_the_company_sees_it_or_its_orders(client, pool):
    acme, other = make_company(client), make_company(client, name="Other SARL", vat_id="FR12345678901")
    add_buyer(client, pool, acme["id"], "ada@acme.example")
    eve = add_buyer(client, pool, other["id"], "eve@other.example")
    outsider = bearer(pool.sign_up("mallory@example.com")["id"])
    assert client.get("/company", headers=eve).data["id"] == other["id"]
    for headers in (outsider,):
        assert client.get("/company", headers=headers).status_code == 404
        assert client.get("/company/orders", headers=headers).status_code == 404


def test_adding_a_buyer_invites_them_to_sign_in_with_a_verified_email(client, pool):
    import boto3

    company = make_company(client)
    body = {"email": "new.buyer@acme.example", "role": "buyer"}
    assert client.post(f"/admin/companies/{company['id']}/buyers", body, headers=ADMIN).status_code == 201
    user = boto3.client("cognito-idp").admin_get_user(UserPoolId=pool.pool_id, Username="new.buyer@acme.example")
    attributes = {a["Name"]: a["Value"] for a in user["UserAttributes"]}
    assert user["UserStatus"] == "FORCE_CHANGE_PASSWORD" and attributes["email_verified"] == "true"
    # Again (a role change), and for somebody who already has an account: no second invitation, no error.
    pool.sign_up("existing@acme.example")
    for email in ("new.buyer@acme.example", "existing@acme.example"):
        again = client.post(f"/admin/companies/{company['id']}/buyers", {"email": email, "role": "approver"},
                            headers=ADMIN)
        assert again.status_code == 201, again.data


def test_without_a_user_pool_a_buyer_is_still_added(client):
    company = make_company(client)
    answer = client.post(f"/admin/companies/{company['id']}/buyers", {"email": "x@acme.example"}, headers=ADMIN)
    assert answer.status_code == 201 and answer.data["customer_id"].startswith("cus_")


def test_an_erased_buyer_leaves_no_trace_in_the_company(shop, pool):
    company = make_company(shop)
    ada = add_buyer(shop, pool, company["id"], "ada@acme.example", role="approver")
    bob = add_buyer(shop, pool, company["id"], "bob@acme.example")
    assert shop.delete("/me", headers=bob).status_code == 204
    assert [b["email"] for b in shop.get("/company", headers=ada).data["buyers"]] == ["ada@acme.example"]
    assert [b["email"] for b in shop.get(f"/admin/companies/{company['id']}", headers=ADMIN).data["buyers"]] == [
        "ada@acme.example"]


def test_an_email_cognito_refuses_is_a_400_and_adds_no_buyer(client, pool):
    company = make_company(client)
    answer = client.post(f"/admin/companies/{company['id']}/buyers", {"email": "0@0.0"}, headers=ADMIN)
    assert answer.status_code == 400 and answer.data["error"]["param"] == "email", answer.data
    assert client.get(f"/admin/companies/{company['id']}", headers=ADMIN).data["buyers"] == []
