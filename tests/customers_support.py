"""Customer accounts in tests: a Cognito user pool on moto (in-process), users with real tokens from
InitiateAuth, and the pool's JWKS as moto serves it.

The app fetches the JWKS with urllib, which in-process moto does not intercept; the fixture fetches it
from moto (with `requests`, which moto does intercept) and points COGNITO_JWKS_URL at a file:// copy.
The local stack and the moto-server tests fetch it over HTTP from moto itself.
"""

import json
import time
from dataclasses import dataclass

import boto3
import pytest
import requests

PASSWORD = "Correct-horse-1"
UNSUBSCRIBE_SECRET = "unsubscribe-test-secret"


@dataclass
class Pool:
    pool_id: str
    client_id: str

    @property
    def issuer(self) -> str:
        return f"https://cognito-idp.eu-west-1.amazonaws.com/{self.pool_id}"

    def sign_up(self, email: str, verified: bool = True) -> dict:
        """A user with this email (verified or not); answers its tokens as Cognito's InitiateAuth does."""
        cognito = boto3.client("cognito-idp")
        attributes = [{"Name": "email", "Value": email}, {"Name": "email_verified", "Value": str(verified).lower()}]
        cognito.admin_create_user(UserPoolId=self.pool_id, Username=email, UserAttributes=attributes,
                                  MessageAction="SUPPRESS")
        cognito.admin_set_user_password(UserPoolId=self.pool_id, Username=email, Password=PASSWORD, Permanent=True)
        return self.sign_in(email)

    def sign_in(self, email: str, client_id: str | None = None) -> dict:
        answer = boto3.client("cognito-idp").initiate_auth(
            ClientId=client_id or self.client_id, AuthFlow="USER_PASSWORD_AUTH",
            AuthParameters={"USERNAME": email, "PASSWORD": PASSWORD})["AuthenticationResult"]
        return {"id": answer["IdToken"], "access": answer["AccessToken"]}


def create_pool(name: str = "commerce-test-customers") -> Pool:
    cognito = boto3.client("cognito-idp")
    pool_id = cognito.create_user_pool(PoolName=name, UsernameAttributes=["email"],
                                       AutoVerifiedAttributes=["email"])["UserPool"]["Id"]
    client_id = new_client(pool_id)
    return Pool(pool_id, client_id)


def new_client(pool_id: str, name: str = "storefront") -> str:
    return boto3.client("cognito-idp").create_user_pool_client(
        UserPoolId=pool_id, ClientName=name, ExplicitAuthFlows=["ALLOW_USER_PASSWORD_AUTH"],
        ReadAttributes=["email", "email_verified", "name"])["UserPoolClient"]["ClientId"]


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def pool(aws, tmp_path, monkeypatch) -> Pool:
    """A user pool and storefront client on the in-process moto, configured as the app's."""
    from chalicelib import accounts, config

    created = create_pool()
    jwks = requests.get(f"{created.issuer}/.well-known/jwks.json", timeout=5)
    path = tmp_path / "jwks.json"
    path.write_text(jwks.text)
    monkeypatch.setenv("COGNITO_USER_POOL_ID", created.pool_id)
    monkeypatch.setenv("COGNITO_CLIENT_ID", created.client_id)
    monkeypatch.setenv("COGNITO_JWKS_URL", path.as_uri())
    monkeypatch.setenv("UNSUBSCRIBE_SECRET", UNSUBSCRIBE_SECRET)
    config.reset()
    accounts.reset()
    yield created
    accounts.reset()


def moto_private_key():
    """The key moto signs every pool's tokens with (its resources), to make tokens a pool never issued:
    expired ones, other audiences, other token uses."""
    from joserfc.jwk import RSAKey
    from moto.cognitoidp.models import load_resource

    return RSAKey.import_key(load_resource("cognitoidp/resources/jwks-private.json"))


def forged(claims: dict, key=None, header: dict | None = None) -> str:
    from joserfc import jwt

    return jwt.encode(header or {"alg": "RS256", "kid": "dummy"}, claims, key or moto_private_key())


def id_claims(pool: Pool, email: str = "ada@example.com", **changes) -> dict:
    now = int(time.time())
    return {"iss": pool.issuer, "sub": "sub-ada", "aud": pool.client_id, "token_use": "id", "iat": now,
            "exp": now + 3600, "email": email, "email_verified": True, "cognito:username": "sub-ada", **changes}


def claims_of(token: str) -> dict:
    import base64

    part = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
