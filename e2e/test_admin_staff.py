"""The owner manages staff accounts in the back office (admin/src/pages/Staff.tsx) against the local stack's
staff pool (moto's Cognito): invite someone, change their role, disable and enable them; the last owner
cannot be disabled. Screenshot in test-artifacts/admin-staff.png."""

import uuid

import pytest
import requests
from playwright.sync_api import expect

from devstack.accounts import STAFF
from devstack.admin import DIST
from e2e.conftest import ARTIFACTS
from e2e.test_admin import admin_headers, serious_violations, sign_in_as

pytestmark = pytest.mark.skipif(not (DIST / "index.html").is_file(), reason="admin/dist missing: run `make admin`")


def staff_member(stack, email: str) -> dict:
    listed = requests.get(f"{stack.api}/admin/staff", headers=admin_headers(stack), timeout=10).json()["data"]
    return next(m for m in listed if m["email"] == email)


def test_the_owner_invites_changes_a_role_disables_and_enables_staff(stack, browser):
    page = browser.page
    email = f"nia-{uuid.uuid4().hex[:6]}@staff.example.com"
    sign_in_as(page, stack, "owner")
    page.get_by_role("navigation", name="Sections").get_by_role("link", name="Staff").click()
    expect(page.get_by_role("heading", name="Staff", exact=True)).to_be_visible()
    table = page.get_by_role("table", name="Staff accounts")
    for role, address in STAFF.items():
        expect(table.get_by_role("row").filter(has_text=address)).to_contain_text("active")
        expect(page.get_by_label(f"Role of {address}")).to_have_value(role)

    invite = page.get_by_role("form", name="Invite someone")
    invite.get_by_label("Email").fill(email)
    invite.get_by_role("combobox").select_option("support")
    invite.get_by_role("button", name="Invite").click()
    expect(page.get_by_role("status")).to_have_text(f"Invited {email} as support.")
    row = table.get_by_role("row").filter(has_text=email)
    expect(row).to_contain_text("invited (temporary password)")
    assert staff_member(stack, email)["status"] == "FORCE_CHANGE_PASSWORD"

    page.get_by_label(f"Role of {email}").select_option("fulfilment")
    expect(page.get_by_role("status")).to_have_text(f"{email} is now fulfilment.")
    assert staff_member(stack, email)["roles"] == ["fulfilment"]

    page.get_by_role("button", name=f"Disable {email}").click()
    expect(row).to_contain_text("disabled")
    assert staff_member(stack, email)["enabled"] is False
    # The shop's only owner cannot be disabled (nor demoted): the API says why.
    page.get_by_role("button", name=f"Disable {STAFF['owner']}").click()
    expect(page.get_by_role("alert")).to_contain_text("last enabled owner")
    assert staff_member(stack, STAFF["owner"])["enabled"] is True
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "admin-staff.png"), full_page=True)
    assert serious_violations(page) == []

    page.get_by_role("button", name=f"Enable {email}").click()
    expect(page.get_by_role("status")).to_have_text(f"{email} is enabled.")
    expect(row).to_contain_text("invited (temporary password)")


def test_a_staff_member_disabled_meanwhile_is_sent_back_to_sign_in(stack, browser):
    """The owner disables someone who is signed in: their next request is refused (401 `token_revoked`) and
    the app shows the sign-in page, saying why; once enabled again they sign in as before."""
    from urllib.parse import quote

    page = browser.page
    sign_in_as(page, stack, "fulfilment")
    user = f"{stack.api}/admin/staff/{quote(staff_member(stack, STAFF['fulfilment'])['username'], safe='')}"
    assert requests.post(f"{user}/disable", json={}, headers=admin_headers(stack), timeout=30).ok
    try:
        page.get_by_role("navigation", name="Sections").get_by_role("link", name="Orders").click()
        expect(page.get_by_test_id("signed-out")).to_contain_text("sign in again")
        expect(page.get_by_role("button", name="Sign in")).to_be_visible()
        assert page.evaluate("() => sessionStorage.length") == 0
        assert serious_violations(page) == []
    finally:
        assert requests.post(f"{user}/enable", json={}, headers=admin_headers(stack), timeout=30).ok
    sign_in_as(page, stack, "fulfilment")
    expect(page.get_by_test_id("signed-out")).to_have_count(0)
