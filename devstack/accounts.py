"""Customer accounts on the local stack: the Cognito user pool, the storefront's app client and a demo
customer, created through the cognito-idp API on the moto server (moto's CloudFormation cannot create a
pool; infra/deploy.yaml declares it for a deployed stack).

moto serves the pool's JWKS at `<moto>/<pool id>/.well-known/jwks.json`, and the app verifies tokens
against it exactly as against Cognito's. What the pool is, and the demo customer's sign-in, are written to
`.local/cognito.json` for `python -m tools.token`.
"""

import json
import os

from devstack.stack import ROOT

STAFF_PASSWORD = "Demo-staff-01"  # noqa: S105 - local demo staff accounts on moto
STAFF = {role: f"{role}@staff.example.com" for role in ("owner", "manager", "support", "fulfilment")}
DEMO_EMAIL = "demo@example.com"
DEMO_PASSWORD = "Demo-customer-1"  # noqa: S105 - a local demo account on moto
SETTINGS_FILE = ROOT / ".local" / "cognito.json"


def create_pool(moto_url: str, stage: str) -> dict:
    """Pool, app client (USER_PASSWORD_AUTH allowed for tools/token.py; the storefront uses SRP in
    production) and the demo customer with a verified email. Sets the app's COGNITO_* environment."""
    import boto3

    cognito = boto3.client("cognito-idp")
    pool_id = cognito.create_user_pool(
        PoolName=f"commerce-{stage}-customers", UsernameAttributes=["email"], AutoVerifiedAttributes=["email"],
        Policies={"PasswordPolicy": {"MinimumLength": 10, "RequireNumbers": True}})["UserPool"]["Id"]
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id, ClientName=f"commerce-{stage}-storefront", GenerateSecret=False,
        ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH", "ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"],
        ReadAttributes=["email", "email_verified", "name"])["UserPoolClient"]["ClientId"]
    sign_up(pool_id, DEMO_EMAIL, DEMO_PASSWORD)
    add_staff(pool_id)
    settings = {"moto_url": moto_url, "region": pool_id.split("_", 1)[0], "user_pool_id": pool_id,
                "client_id": client_id, "demo_email": DEMO_EMAIL, "demo_password": DEMO_PASSWORD}
    SETTINGS_FILE.parent.mkdir(parents=True, exist_ok=True)
    SETTINGS_FILE.write_text(json.dumps(settings, indent=2) + "\n")
    os.environ.update(COGNITO_USER_POOL_ID=pool_id, COGNITO_CLIENT_ID=client_id,
                      COGNITO_JWKS_URL=f"{moto_url}/{pool_id}/.well-known/jwks.json")
    return settings


def sign_up(pool_id: str, email: str, password: str) -> None:
    """A customer whose email Cognito has verified (what sign-up plus the emailed code leaves behind)."""
    import boto3

    cognito = boto3.client("cognito-idp")
    cognito.admin_create_user(UserPoolId=pool_id, Username=email, MessageAction="SUPPRESS",
                              UserAttributes=[{"Name": "email", "Value": email},
                                              {"Name": "email_verified", "Value": "true"}])
    cognito.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=password, Permanent=True)


def add_staff(pool_id: str) -> None:
    """One demo staff user per role (`<role>@staff.example.com` / STAFF_PASSWORD), each in the group named
    after the role: staff use the same pool locally (STAFF_USER_POOL_ID unset), as a shop may in production."""
    import boto3

    cognito = boto3.client("cognito-idp")
    for role, email in STAFF.items():
        cognito.create_group(UserPoolId=pool_id, GroupName=role, Description=f"back office: {role}")
        sign_up(pool_id, email, STAFF_PASSWORD)
        cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=role)
