"""Staff accounts, managed by the owner from the back office: the users of the staff Cognito pool
(STAFF_USER_POOL_ID, by default the customer pool) and their role groups (chalicelib/permissions.py ROLES).
Cognito is the only store: nothing of a staff user is kept in DynamoDB but the audit record of each change,
written right after the Cognito call succeeded (repository/audit.write_alone: there is no transaction
spanning Cognito and DynamoDB), and, when the owner disabled the user or changed their role, the second from
which their tokens count again (repository/staff.py, in the record's transaction).

Revocation: the API checks a staff token by its signature (chalicelib/staff.py), so a token issued before a
change would keep its old access until it expires (up to 60 minutes). Disabling and changing a role (even to
the same role: a retry after a failed write revokes again) sign the user out at Cognito
(AdminUserGlobalSignOut: refresh tokens die) and write `not_before` = the second after the change, plus
CLOCK_SKEW_SECONDS for Cognito's clock against ours: every admin route then refuses a token whose `iat`
(whole seconds) is earlier, one of the change's own second included, with 401 `token_revoked`. The change
answers only once Cognito's clock may have reached `not_before`, so a sign-in after the answer is accepted
(the request waits up to 1.5 s for it).

The staff are the members of the role groups (ListUsersInGroup, paged): a shop whose staff share the
customer pool does not list its customers. The shop keeps at least one enabled owner: the last one can be
neither demoted nor disabled (409 `last_owner`). Cognito has no conditional write, so two owners demoting
each other at the same instant could both pass that check: each change checks again once made and undoes
itself if no enabled owner is left (the last to check sees the others' changes), so at least one stays.
"""

import math
import time
from datetime import UTC, datetime

from botocore.exceptions import ClientError

from chalicelib import clock, config
from chalicelib.errors import InvalidRequest, LastOwner, ResourceExists, ResourceMissing, UpstreamUnavailable
from chalicelib.permissions import ROLES
from chalicelib.repository import audit as audit_log
from chalicelib.repository import dynamo
from chalicelib.repository import staff as staff_tokens

OWNER = "owner"
CLOCK_SKEW_SECONDS = 0.25  # how far Cognito's clock (a token's `iat`) may be from ours, either way


def _cognito():
    from chalicelib import accounts

    return accounts._cognito()


def _pool() -> str:
    pool = config.settings().staff_user_pool_id
    if not pool:
        raise UpstreamUnavailable("No staff user pool is configured (STAFF_USER_POOL_ID or COGNITO_USER_POOL_ID).")
    return pool


def _call(operation: str, **kwargs) -> dict:
    """A cognito-idp call on the staff pool; a missing user is a 404, Cognito unreachable a 502."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        return getattr(_cognito(), operation)(UserPoolId=_pool(), **kwargs)
    except ClientError as error:
        code = error.response["Error"]["Code"]
        if code == "ResourceNotFoundException" and operation == "list_users_in_group":
            return {"Users": []}  # a role group the pool lacks (infra/deploy.yaml creates all four) has no one
        if code == "UserNotFoundException":
            raise ResourceMissing("No such staff user.") from error
        if code == "UsernameExistsException":
            raise ResourceExists("A user with this email exists already.", param="email") from error
        if code == "InvalidParameterException":
            raise InvalidRequest("The sign-in service refused this: " + error.response["Error"].get("Message", ""))\
                from error
        raise UpstreamUnavailable("The sign-in service failed; please retry.") from error
    except BotoCoreError as error:
        raise UpstreamUnavailable("The sign-in service could not be reached; please retry.") from error


def _created(value) -> str:
    if isinstance(value, datetime):
        return clock.iso(value.astimezone(UTC))
    return str(value or "")


def _member(user: dict, roles: list[str]) -> dict:
    attributes = {a["Name"]: a["Value"] for a in user.get("Attributes") or user.get("UserAttributes") or []}
    return {"username": user["Username"], "email": attributes.get("email") or user["Username"],
            "roles": [role for role in ROLES if role in roles], "enabled": bool(user.get("Enabled", True)),
            "status": user.get("UserStatus") or "UNKNOWN", "created": _created(user.get("UserCreateDate"))}


def _in_group(role: str) -> list[dict]:
    users, token = [], None
    while True:
        answer = _call("list_users_in_group", GroupName=role, Limit=60, **({"NextToken": token} if token else {}))
        users.extend(answer.get("Users", []))
        token = answer.get("NextToken")
        if not token:
            return users


def list_staff() -> list[dict]:
    """Every member of a role group with their roles, by email."""
    users: dict[str, dict] = {}
    roles: dict[str, list[str]] = {}
    for role in ROLES:
        for user in _in_group(role):
            users[user["Username"]] = user
            roles.setdefault(user["Username"], []).append(role)
    return sorted((_member(user, roles[name]) for name, user in users.items()), key=lambda m: m["email"])


def _get(username: str) -> tuple[dict, str]:
    """(the staff member, their Cognito `sub`). Raises ResourceMissing."""
    user = _call("admin_get_user", Username=username)
    groups = _call("admin_list_groups_for_user", Username=user["Username"], Limit=60).get("Groups", [])
    member = _member(user, [g["GroupName"] for g in groups])
    if not member["roles"]:
        raise ResourceMissing("No such staff user.")  # a customer of a shared pool is no staff
    sub = next((a["Value"] for a in user.get("UserAttributes") or [] if a["Name"] == "sub"), user["Username"])
    return member, sub


def get(username: str) -> dict:
    """A staff user by username (or email, an alias in a pool whose usernames are ids). Raises ResourceMissing."""
    return _get(username)[0]


def _enabled_owners() -> set[str]:
    return {user["Username"] for user in _in_group(OWNER) if user.get("Enabled", True)}


def _was_an_owner(member: dict) -> bool:
    return OWNER in member["roles"] and member["enabled"]


def _keep_an_owner(member: dict) -> None:
    """Before demoting or disabling `member`. Cognito has no conditional write, so the change checks again
    once made (another owner may have been demoted at the same moment) and undoes itself when no enabled
    owner is left (change_role, disable): of two owners demoting each other at once, at most one succeeds."""
    if _was_an_owner(member) and _enabled_owners() <= {member["username"]}:
        raise LastOwner("This is the last enabled owner: make someone else owner first.")


def _state(member: dict) -> dict:
    return {"email": member["email"], "roles": member["roles"], "enabled": member["enabled"]}


def _audit(member: dict, before: dict | None, after: dict) -> None:
    audit_log.write_alone({f"STAFF#{member['username']}": before} if before else None,
                          {f"STAFF#{member['username']}": after})


def _revoked(member: dict, sub: str, before: dict, after: dict) -> None:
    """The change's audit record with the user's `not_before` (module docstring), once Cognito's change and
    sign-out are done; answers once a token issued now would be accepted."""
    not_before = math.floor(time.time() + CLOCK_SKEW_SECONDS) + 1
    label = f"STAFF#{member['username']}"
    try:
        audit_log.write_alone({label: before}, {label: after},
                              (staff_tokens.revoke_tokens(sub, member["username"], not_before),))
    except ClientError as error:
        if dynamo.error_code(error) != "TransactionCanceledException":
            raise
        if dynamo.cancellation_codes(error)[:1] != ["ConditionalCheckFailed"]:
            raise UpstreamUnavailable("The database is busy; please retry.") from error
        _audit(member, before, after)  # a concurrent change wrote a later `not_before`: it stands
    time.sleep(max(0.0, not_before + CLOCK_SKEW_SECONDS - time.time()))


def invite(email: str, role: str) -> dict:
    """AdminCreateUser (Cognito emails a temporary password; the address is marked verified) and
    AdminAddUserToGroup. Raises ResourceExists (409: a user with this email, staff or customer)."""
    email = email.lower()
    created = _call("admin_create_user", Username=email, DesiredDeliveryMediums=["EMAIL"],
                    UserAttributes=[{"Name": "email", "Value": email},
                                    {"Name": "email_verified", "Value": "true"}])["User"]
    _call("admin_add_user_to_group", Username=created["Username"], GroupName=role)
    member = _member(created, [role])
    _audit(member, None, _state(member))
    return member


def change_role(username: str, role: str) -> dict:
    """The user's only role becomes `role` (added first, then the other role groups removed); the user is
    signed out and their tokens refused (module docstring): a new sign-in carries the new role. Raises
    LastOwner, ResourceMissing."""
    member, sub = _get(username)
    if role != OWNER:
        _keep_an_owner(member)
    before = _state(member)
    if role not in member["roles"]:
        _call("admin_add_user_to_group", Username=member["username"], GroupName=role)
    for other in member["roles"]:
        if other != role:
            _call("admin_remove_user_from_group", Username=member["username"], GroupName=other)
    if _was_an_owner(member) and role != OWNER and not _enabled_owners():
        # A concurrent change demoted or disabled the other owner(s) meanwhile: undo this one.
        for other in member["roles"]:
            if other != role:
                _call("admin_add_user_to_group", Username=member["username"], GroupName=other)
        if role not in member["roles"]:
            _call("admin_remove_user_from_group", Username=member["username"], GroupName=role)
        raise LastOwner("No other enabled owner is left: make someone else owner first.")
    _call("admin_user_global_sign_out", Username=member["username"])
    member = {**member, "roles": [role]}
    _revoked(member, sub, before, _state(member))
    return member


def disable(username: str) -> dict:
    """AdminDisableUser (no more sign-in, refresh tokens refused), AdminUserGlobalSignOut (its refresh and
    access tokens revoked at Cognito) and the user's tokens refused by the API (module docstring).
    Idempotent. Raises LastOwner, ResourceMissing."""
    member, sub = _get(username)
    _keep_an_owner(member)
    before = _state(member)
    _call("admin_disable_user", Username=member["username"])
    if _was_an_owner(member) and not _enabled_owners():
        _call("admin_enable_user", Username=member["username"])  # a concurrent change: undo this one
        raise LastOwner("No other enabled owner is left: make someone else owner first.")
    _call("admin_user_global_sign_out", Username=member["username"])
    member = {**member, "enabled": False}
    _revoked(member, sub, before, _state(member))
    return member


def enable(username: str) -> dict:
    """AdminEnableUser. Idempotent. Raises ResourceMissing."""
    member = get(username)
    before = _state(member)
    _call("admin_enable_user", Username=member["username"])
    member = {**member, "enabled": True}
    _audit(member, before, _state(member))
    return member
