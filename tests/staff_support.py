"""Staff in tests: users of the moto Cognito pool (tests/customers_support.py `pool`) put in role groups,
with real tokens from InitiateAuth that carry `cognito:groups`."""

import boto3
import pytest

from tests.customers_support import bearer

ROLES = ("owner", "manager", "support", "fulfilment")


def staff_token(pool, role: str | None, email: str | None = None) -> str:
    """An ID token of a new user in `role`'s group (None: in no group)."""
    cognito = boto3.client("cognito-idp")
    email = email or f"{role or 'nobody'}@staff.example.com"
    if role:
        groups = {g["GroupName"] for g in cognito.list_groups(UserPoolId=pool.pool_id)["Groups"]}
        if role not in groups:
            cognito.create_group(UserPoolId=pool.pool_id, GroupName=role)
    tokens = pool.sign_up(email)
    if role:
        cognito.admin_add_user_to_group(UserPoolId=pool.pool_id, Username=email, GroupName=role)
        tokens = pool.sign_in(email)
    return tokens["id"]


def as_staff(token: str) -> dict:
    return bearer(token) | {"Content-Type": "application/json"}


@pytest.fixture
def staff(pool) -> dict[str, dict]:
    """Headers of one staff user per role."""
    return {role: as_staff(staff_token(pool, role)) for role in ROLES}


@pytest.fixture
def groups(pool):
    """The pool's four role groups, as infra/deploy.yaml creates them."""
    cognito = boto3.client("cognito-idp")
    for role in ROLES:
        cognito.create_group(UserPoolId=pool.pool_id, GroupName=role)
    return pool


@pytest.fixture
def owner(groups) -> dict:
    """Olive, the owner (olive@staff.example.com)."""
    return as_staff(staff_token(groups, "owner", "olive@staff.example.com"))
