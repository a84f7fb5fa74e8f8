"""The owner manages staff accounts (chalicelib/services/staff_accounts.py) against moto's cognito-idp:
listing, inviting, changing roles, disabling and enabling; the last enabled owner is kept; every change is
audited; only the owner (or an API key holding `staff:manage`) may."""

import hashlib
import json
from urllib.parse import quote

import boto3
import pytest

from tests.conftest import ADMIN
from tests.staff_support import ROLES, as_staff, staff_token
from tests.test_audit import stored_records


def member(api, email: str, headers=ADMIN) -> dict:
    found = [m for m in api.get("/admin/staff", headers=headers).data["data"] if m["email"] == email]
    assert len(found) == 1, found
    return found[0]


def path(username: str) -> str:
    return f"/admin/staff/{quote(username, safe='')}"


def test_the_staff_are_listed_from_the_pool_with_roles_and_status_customers_not(client, groups, owner):
    staff_token(groups, "support", "sam@staff.example.com")
    groups.sign_up("customer@example.com")  # a customer of the shared pool: in no role group
    answer = client.get("/admin/staff", headers=owner)
    assert answer.status_code == 200, answer.data
    listed = {m["email"]: m for m in answer.data["data"]}
    assert sorted(listed) == ["olive@staff.example.com", "sam@staff.example.com"]
    sam = listed["sam@staff.example.com"]
    assert (sam["roles"], sam["enabled"], sam["status"]) == (["support"], True, "CONFIRMED")
    assert sam["created"].endswith("Z") and sam["username"]


def test_the_staff_list_walks_cognitos_pages(client, groups, owner):
    for i in range(65):  # ListUsersInGroup answers 60 at most per page
        boto3.client("cognito-idp").admin_create_user(UserPoolId=groups.pool_id, Username=f"s{i}@staff.example.com",
                                                      MessageAction="SUPPRESS")
        boto3.client("cognito-idp").admin_add_user_to_group(UserPoolId=groups.pool_id,
                                                            Username=f"s{i}@staff.example.com", GroupName="support")
    assert len(client.get("/admin/staff", headers=owner).data["data"]) == 66


def test_inviting_creates_the_user_in_its_role_with_a_temporary_password(client, groups, owner):
    answer = client.post("/admin/staff", {"email": "Nia@Staff.example.com", "role": "fulfilment"}, headers=owner)
    assert answer.status_code == 201, answer.data
    assert answer.data["email"] == "nia@staff.example.com" and answer.data["roles"] == ["fulfilment"]
    assert answer.data["status"] == "FORCE_CHANGE_PASSWORD" and answer.data["enabled"] is True
    cognito = boto3.client("cognito-idp")
    in_group = cognito.list_users_in_group(UserPoolId=groups.pool_id, GroupName="fulfilment")["Users"]
    assert [u["Username"] for u in in_group] == [answer.data["username"]]
    assert member(client, "nia@staff.example.com", owner)["status"] == "FORCE_CHANGE_PASSWORD"

    again = client.post("/admin/staff", {"email": "nia@staff.example.com", "role": "support"}, headers=owner)
    assert again.status_code == 409 and again.data["error"]["code"] == "resource_exists"
    unknown = client.post("/admin/staff", {"email": "x@staff.example.com", "role": "admin"}, headers=owner)
    assert unknown.status_code == 400 and unknown.data["error"]["code"] == "invalid_request"
    assert client.post("/admin/staff", {"email": "nope", "role": "support"}, headers=owner).status_code == 400


def test_changing_a_role_leaves_the_user_in_that_role_only_and_the_new_token_carries_it(client, groups, owner):
    staff_token(groups, "support", "sam@staff.example.com")
    sam = member(client, "sam@staff.example.com", owner)
    answer = client.put(f"{path(sam['username'])}/role", {"role": "manager"}, headers=owner)
    assert answer.status_code == 200, answer.data
    assert answer.data["roles"] == ["manager"]
    assert member(client, "sam@staff.example.com", owner)["roles"] == ["manager"]
    token = groups.sign_in("sam@staff.example.com")["id"]
    assert client.get("/admin/companies", headers=as_staff(token)).status_code == 200  # a manager's, not support's
    missing = client.put(f"{path('ghost@staff.example.com')}/role", {"role": "support"}, headers=owner)
    assert missing.status_code == 404
    customer = groups.sign_up("customer@example.com") and "customer@example.com"
    assert client.put(f"{path(customer)}/role", {"role": "owner"}, headers=owner).status_code == 404


def test_the_last_enabled_owner_can_be_neither_demoted_nor_disabled(client, groups, owner):
    olive = member(client, "olive@staff.example.com", owner)["username"]
    for method, suffix, body in (("PUT", "/role", {"role": "manager"}), ("POST", "/disable", {})):
        answer = client.request(method, path(olive) + suffix, body, headers=owner)
        assert answer.status_code == 409 and answer.data["error"]["code"] == "last_owner", answer.data
    assert member(client, "olive@staff.example.com", owner) | {"created": None} == {
        "username": olive, "email": "olive@staff.example.com", "roles": ["owner"], "enabled": True,
        "status": "CONFIRMED", "created": None}

    # A second owner: then either may step down, but not both.
    invited = client.post("/admin/staff", {"email": "otto@staff.example.com", "role": "owner"}, headers=owner).data
    assert client.put(f"{path(olive)}/role", {"role": "manager"}, headers=owner).status_code == 200
    assert client.post(f"{path(invited['username'])}/disable", {}, headers=ADMIN).data["error"]["code"] == "last_owner"
    # A disabled owner does not count: with Otto disabled, Olive (owner again) is the last enabled one.
    assert client.put(f"{path(olive)}/role", {"role": "owner"}, headers=ADMIN).status_code == 200
    assert client.post(f"{path(invited['username'])}/disable", {}, headers=ADMIN).status_code == 200
    assert client.post(f"{path(olive)}/disable", {}, headers=ADMIN).data["error"]["code"] == "last_owner"
    assert client.put(f"{path(invited['username'])}/role", {"role": "support"}, headers=ADMIN).status_code == 200


def test_a_disabled_user_cannot_sign_in_and_is_signed_out_until_enabled(client, groups, owner):
    from botocore.exceptions import ClientError

    staff_token(groups, "support", "sam@staff.example.com")
    sam = member(client, "sam@staff.example.com", owner)["username"]
    disabled = client.post(f"{path(sam)}/disable", {}, headers=owner)
    assert disabled.status_code == 200 and disabled.data["enabled"] is False
    assert member(client, "sam@staff.example.com", owner)["enabled"] is False
    with pytest.raises(ClientError) as refused:
        groups.sign_in("sam@staff.example.com")
    assert refused.value.response["Error"]["Code"] == "NotAuthorizedException"
    assert client.post(f"{path(sam)}/disable", {}, headers=owner).status_code == 200  # idempotent

    enabled = client.post(f"{path(sam)}/enable", {}, headers=owner)
    assert enabled.status_code == 200 and enabled.data["enabled"] is True
    assert groups.sign_in("sam@staff.example.com")["id"]


def test_every_change_is_audited_with_who_and_the_users_state_before_and_after(client, groups, owner):
    invited = client.post("/admin/staff", {"email": "nia@staff.example.com", "role": "support"}, headers=owner).data
    nia = invited["username"]
    client.put(f"{path(nia)}/role", {"role": "fulfilment"}, headers=owner)
    client.post(f"{path(nia)}/disable", {}, headers=owner)
    client.post(f"{path(nia)}/enable", {}, headers=owner)
    refused = client.post(f"{path(member(client, 'olive@staff.example.com')['username'])}/disable", {}, headers=owner)
    assert refused.status_code == 409

    records = sorted(stored_records(), key=lambda r: r["SK"])
    label = f"STAFF#{nia}"
    state = {"email": "nia@staff.example.com", "enabled": True}
    assert [(r["actor"], r["action"], r["resource"], json.loads(r["before"]), json.loads(r["after"]))
            for r in records] == [
        ("staff:olive@staff.example.com", "POST /admin/staff", "staff", None,
         {label: state | {"roles": ["support"]}}),
        ("staff:olive@staff.example.com", "PUT /admin/staff/{username}/role", f"staff/{nia}/role",
         {label: state | {"roles": ["support"]}}, {label: state | {"roles": ["fulfilment"]}}),
        ("staff:olive@staff.example.com", "POST /admin/staff/{username}/disable", f"staff/{nia}/disable",
         {label: state | {"roles": ["fulfilment"]}}, {label: state | {"roles": ["fulfilment"], "enabled": False}}),
        ("staff:olive@staff.example.com", "POST /admin/staff/{username}/enable", f"staff/{nia}/enable",
         {label: state | {"roles": ["fulfilment"], "enabled": False}}, {label: state | {"roles": ["fulfilment"]}}),
    ]


@pytest.mark.parametrize("role", ["manager", "support", "fulfilment"])
def test_only_the_owner_manages_staff(client, groups, role):
    headers = as_staff(staff_token(groups, role))
    target = member(client, f"{role}@staff.example.com")["username"]
    for method, route, body in (("GET", "/admin/staff", None),
                                ("POST", "/admin/staff", {"email": "x@staff.example.com", "role": "owner"}),
                                ("PUT", f"{path(target)}/role", {"role": "owner"}),
                                ("POST", f"{path(target)}/disable", {}), ("POST", f"{path(target)}/enable", {})):
        answer = client.request(method, route, body, headers=headers)
        assert answer.status_code == 403 and answer.data["error"]["code"] == "forbidden", (route, answer.data)
    assert member(client, f"{role}@staff.example.com")["roles"] == [role]
    assert not stored_records()


def test_a_scoped_api_key_needs_staff_manage(client, groups, monkeypatch):
    from chalicelib import config

    key = "erp-key"
    scopes = {hashlib.sha256(key.encode()).hexdigest(): {"name": "erp", "scopes": ["orders:read"]}}
    monkeypatch.setenv("ADMIN_API_KEYS", json.dumps(scopes))
    config.reset()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    assert client.get("/admin/staff", headers=headers).status_code == 403


def test_two_owners_demoting_or_disabling_each_other_at_once_leave_an_enabled_owner(moto_server, monkeypatch):
    """Cognito has no conditional write: both changes may pass the last-owner check (without the check again
    after the change, every round here ends with no owner). Over a moto server, rounds of two owners demoting
    (or disabling) each other at once: an enabled owner is always left, and a change answered as done is in
    effect."""
    import threading

    from chalicelib import audit, config
    from chalicelib.errors import CommerceError
    from chalicelib.services import staff_accounts

    cognito = boto3.client("cognito-idp")
    pool_id = cognito.create_user_pool(PoolName="staff", UsernameAttributes=["email"])["UserPool"]["Id"]
    for role in ROLES:
        cognito.create_group(UserPoolId=pool_id, GroupName=role)
    monkeypatch.setenv("STAFF_USER_POOL_ID", pool_id)
    monkeypatch.setenv("STAFF_CLIENT_ID", "unused")
    config.reset()

    def step_down(actor: str, target: str, disabling: bool, barrier: threading.Barrier, outcomes: dict):
        route = "POST /admin/staff/{username}/disable" if disabling else "PUT /admin/staff/{username}/role"
        audit.begin(f"staff:{actor}", *route.split(" "), {"username": target})
        try:
            barrier.wait(timeout=10)
            (staff_accounts.disable(target) if disabling else staff_accounts.change_role(target, "manager"))
            outcomes[target] = "done"
        except CommerceError as error:
            outcomes[target] = error.code
        finally:
            audit.end()

    for round_ in range(6):
        for left in cognito.list_users_in_group(UserPoolId=pool_id, GroupName="owner")["Users"]:  # last round's
            cognito.admin_remove_user_from_group(UserPoolId=pool_id, Username=left["Username"], GroupName="owner")
        owners = [f"o{round_}{n}@staff.example.com" for n in range(2)]
        for email in owners:
            cognito.admin_create_user(UserPoolId=pool_id, Username=email, MessageAction="SUPPRESS",
                                      UserAttributes=[{"Name": "email", "Value": email}])
            cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName="owner")
        barrier, outcomes = threading.Barrier(2), {}
        threads = [threading.Thread(target=step_down, args=(owners[n], owners[1 - n], round_ % 2, barrier, outcomes))
                   for n in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
        enabled_owners = {m["email"] for m in staff_accounts.list_staff() if "owner" in m["roles"] and m["enabled"]}
        assert enabled_owners, (round_, outcomes)
        assert set(outcomes.values()) <= {"done", "last_owner"}, outcomes
        assert {t for t, o in outcomes.items() if o == "done"} == set(owners) - enabled_owners, (round_, outcomes)
