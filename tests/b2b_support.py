"""B2B builders for tests: companies, buyers with real Cognito tokens (moto), price lists."""

from tests.conftest import ADDRESS, ADMIN
from tests.customers_support import bearer

BILLING = {"name": "Acme GmbH", "line1": "1 Hauptstrasse", "city": "Berlin", "postal_code": "10115", "country": "DE"}


def make_company(api, name="Acme GmbH", vat_id="DE123456789", **body) -> dict:
    answer = api.post("/admin/companies", {"name": name, "billing_address": BILLING,
                                           **({"vat_id": vat_id} if vat_id else {}), **body}, headers=ADMIN)
    assert answer.status_code == 201, answer.data
    return answer.data


def add_buyer(api, pool, company_id: str, email: str, role="buyer", spending_limit=None) -> dict:
    """Add the buyer and sign them up in the pool: their Authorization headers."""
    body = {"email": email, "role": role} | ({"spending_limit": spending_limit} if spending_limit else {})
    answer = api.post(f"/admin/companies/{company_id}/buyers", body, headers=ADMIN)
    assert answer.status_code == 201, answer.data
    return bearer(accept_invitation(pool, email)["id"])


def accept_invitation(pool, email: str) -> dict:
    """The invited buyer sets their password (Cognito's invitation flow, done by the admin API here): tokens."""
    import boto3

    from tests.customers_support import PASSWORD

    boto3.client("cognito-idp").admin_set_user_password(UserPoolId=pool.pool_id, Username=email,
                                                        Password=PASSWORD, Permanent=True)
    return pool.sign_in(email)


def account_cart(api, headers, lines: dict[str, int], currency="EUR", address=ADDRESS, method="standard") -> dict:
    """The buyer's account cart (POST /me/carts) with lines, address and shipping method."""
    cart = api.post("/carts", {"currency": currency}).data
    attached = api.post("/me/carts", {"cart_id": cart["id"]}, headers=headers)
    assert attached.status_code == 200, attached.data
    for sku, quantity in lines.items():
        answer = api.post(f"/carts/{cart['id']}/lines", {"sku": sku, "quantity": quantity})
        assert answer.status_code == 200, answer.data
    answer = api.patch(f"/carts/{cart['id']}", {"shipping_address": address, "shipping_method": method})
    assert answer.status_code == 200, answer.data
    return answer.data
