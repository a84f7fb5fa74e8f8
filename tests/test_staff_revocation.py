"""A staff member's access ends at once when the owner disables them or changes their role
(chalicelib/services/staff_accounts.py writes the user's `not_before`, chalicelib/staff.py refuses older
tokens): real moto Cognito tokens, ID and access alike, on read and write routes."""

import math
import time

import boto3
import pytest

from tests.conftest import ADMIN
from tests.customers_support import PASSWORD, claims_of, forged, id_claims
from tests.staff_support import as_staff, staff_token
from tests.test_audit import stored_records
from tests.test_staff_management import member, path

REFUND = "/admin/orders/ord_missing/refunds"  # support's: 404 (no such order) once the caller is let in


def tokens_item(sub: str) -> dict | None:
    from chalicelib.repository import dynamo

    return dynamo.get({"PK": f"STAFF#{sub}", "SK": "TOKENS"})


def refused(answer) -> bool:
    error = answer.data.get("error") or {}
    return answer.status_code == 401 and error.get("code") == "token_revoked" and "sign in again" in error["message"]


def test_a_disabled_users_tokens_are_refused_at_once_and_other_staff_keep_theirs(client, groups, owner):
    staff_token(groups, "support", "sam@staff.example.com")
    sam_tokens = groups.sign_in("sam@staff.example.com")
    sam = as_staff(sam_tokens["id"]), as_staff(sam_tokens["access"])
    sue = as_staff(staff_token(groups, "support", "sue@staff.example.com"))
    for headers in (*sam, sue):
        assert client.get("/admin/orders", headers=headers).status_code == 200
        assert client.post(REFUND, {"amount": 100}, headers=headers).status_code == 404
    username = member(client, "sam@staff.example.com", owner)["username"]

    assert client.post(f"{path(username)}/disable", {}, headers=owner).status_code == 200

    for headers in sam:  # the ID and the access token, on a read and on a refund
        assert refused(client.get("/admin/orders", headers=headers))
        assert refused(client.post(REFUND, {"amount": 100}, headers=headers))
    assert client.get("/admin/orders", headers=sue).status_code == 200  # another support user: unaffected
    assert client.post(REFUND, {"amount": 100}, headers=sue).status_code == 404
    assert client.get("/admin/staff", headers=owner).status_code == 200  # the owner who disabled: unaffected
    assert client.get("/me", headers=sam[0]).status_code == 200  # the customer routes check no staff access

    assert client.post(f"{path(username)}/enable", {}, headers=owner).status_code == 200
    again = as_staff(groups.sign_in("sam@staff.example.com")["id"])
    assert client.get("/admin/orders", headers=again).status_code == 200  # the new sign-in works
    assert client.post(REFUND, {"amount": 100}, headers=again).status_code == 404
    assert refused(client.get("/admin/orders", headers=sam[0]))  # enabling gives no old token back


def test_a_demoted_owners_old_token_is_refused_and_the_new_one_carries_the_new_role(client, groups, owner):
    from botocore.exceptions import ClientError

    otto = as_staff(staff_token(groups, "owner", "otto@staff.example.com"))
    assert client.get("/admin/staff", headers=otto).status_code == 200
    username = member(client, "otto@staff.example.com", owner)["username"]
    # Signed in by username, not email: moto's sign-out finds only the sessions opened with the username.
    cognito = boto3.client("cognito-idp")
    refresh = cognito.initiate_auth(ClientId=groups.client_id, AuthFlow="USER_PASSWORD_AUTH", AuthParameters={
        "USERNAME": username, "PASSWORD": PASSWORD})["AuthenticationResult"]["RefreshToken"]

    answer = client.put(f"{path(username)}/role", {"role": "support"}, headers=owner)
    assert answer.status_code == 200 and answer.data["roles"] == ["support"], answer.data

    assert refused(client.get("/admin/staff", headers=otto))  # owner-only
    with pytest.raises(ClientError) as signed_out:  # AdminUserGlobalSignOut: no new token from the old session
        cognito.initiate_auth(ClientId=groups.client_id, AuthFlow="REFRESH_TOKEN_AUTH",
                              AuthParameters={"REFRESH_TOKEN": refresh})
    assert signed_out.value.response["Error"]["Code"] == "NotAuthorizedException"
    assert refused(client.get("/admin/orders", headers=otto))  # and any other route
    new = as_staff(groups.sign_in("otto@staff.example.com")["id"])
    assert claims_of(new["Authorization"].split()[1])["cognito:groups"] == ["support"]
    forbidden = client.get("/admin/staff", headers=new)
    assert forbidden.status_code == 403 and forbidden.data["error"]["code"] == "forbidden"
    assert client.get("/admin/orders", headers=new).status_code == 200
    assert client.get("/admin/staff", headers=owner).status_code == 200  # Olive, who demoted him


def test_a_promotion_also_asks_for_a_new_sign_in_which_carries_the_new_role(client, groups, owner):
    sam = as_staff(staff_token(groups, "support", "sam@staff.example.com"))
    username = member(client, "sam@staff.example.com", owner)["username"]
    assert client.put(f"{path(username)}/role", {"role": "manager"}, headers=owner).status_code == 200
    assert refused(client.get("/admin/orders", headers=sam))
    new = as_staff(groups.sign_in("sam@staff.example.com")["id"])
    assert client.get("/admin/companies", headers=new).status_code == 200  # a manager's, not support's


def test_a_token_of_the_changes_own_second_is_refused_and_one_of_the_next_accepted(client, groups, owner):
    """`iat` is whole seconds: `not_before` is after the second the change was made in (and Cognito's clock
    may run a little ahead), and the change answers only once `not_before` has come (Cognito's clock may
    run a little behind), so a sign-in after the answer is accepted."""
    from chalicelib.services.staff_accounts import CLOCK_SKEW_SECONDS

    tokens = groups.sign_up("sam@staff.example.com")
    boto3.client("cognito-idp").admin_add_user_to_group(UserPoolId=groups.pool_id, Username="sam@staff.example.com",
                                                        GroupName="support")
    sub = claims_of(tokens["id"])["sub"]
    username = member(client, "sam@staff.example.com", owner)["username"]

    started = time.time()
    assert client.post(f"{path(username)}/disable", {}, headers=owner).status_code == 200
    answered = time.time()
    assert client.post(f"{path(username)}/enable", {}, headers=owner).status_code == 200

    not_before = tokens_item(sub)["not_before"]
    assert not_before >= math.floor(started + CLOCK_SKEW_SECONDS) + 1  # past any token of the start's second
    assert answered >= not_before + CLOCK_SKEW_SECONDS  # answered once Cognito's clock reached it

    def token(iat: int) -> dict:
        return as_staff(forged(id_claims(groups, "sam@staff.example.com", sub=sub, iat=iat,
                                         **{"cognito:username": username, "cognito:groups": ["support"]})))

    assert refused(client.get("/admin/orders", headers=token(not_before - 1)))
    assert client.get("/admin/orders", headers=token(not_before)).status_code == 200
    assert client.get("/admin/orders", headers=as_staff(groups.sign_in("sam@staff.example.com")["id"])
                      ).status_code == 200  # signed in right after the answer
    without_iat = id_claims(groups, "sam@staff.example.com", sub=sub, **{"cognito:groups": ["support"]})
    del without_iat["iat"]
    assert refused(client.get("/admin/orders", headers=as_staff(forged(without_iat))))


def test_the_revocation_is_written_with_the_changes_audit_record_and_never_moved_back(client, groups, owner):
    from chalicelib.repository import dynamo

    tokens = groups.sign_up("sam@staff.example.com")
    boto3.client("cognito-idp").admin_add_user_to_group(UserPoolId=groups.pool_id, Username="sam@staff.example.com",
                                                        GroupName="support")
    sub = claims_of(tokens["id"])["sub"]
    username = member(client, "sam@staff.example.com", owner)["username"]
    assert client.put(f"{path(username)}/role", {"role": "fulfilment"}, headers=owner).status_code == 200
    item = tokens_item(sub)
    assert item["username"] == username and item["changed_at"].endswith("Z")
    assert len(stored_records()) == 1  # one record: the marker is no audited change of its own

    # A concurrent change wrote a later second meanwhile: this one keeps it, and is still audited.
    later = int(time.time()) + 3600
    dynamo.raw_call("put_item", TableName=dynamo.table(),
                    Item=dynamo.to_item({"PK": f"STAFF#{sub}", "SK": "TOKENS", "not_before": later}))
    assert client.post(f"{path(username)}/disable", {}, headers=owner).status_code == 200
    assert tokens_item(sub)["not_before"] == later
    assert [r["action"] for r in sorted(stored_records(), key=lambda r: r["SK"])] == [
        "PUT /admin/staff/{username}/role", "POST /admin/staff/{username}/disable"]


def test_a_refused_change_revokes_nothing(client, groups, owner):
    olive = member(client, "olive@staff.example.com", owner)
    answer = client.post(f"{path(olive['username'])}/disable", {}, headers=ADMIN)
    assert answer.status_code == 409 and answer.data["error"]["code"] == "last_owner"
    assert client.get("/admin/staff", headers=owner).status_code == 200
    assert tokens_item(claims_of(owner["Authorization"].split()[1])["sub"]) is None
