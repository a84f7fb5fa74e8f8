"""A Cognito token of the local stack's customer pool, for curl (`make run` must be running).

    TOKEN=$(.venv/bin/python -m tools.token)                      # the demo customer's ID token
    .venv/bin/python -m tools.token --access                      # its access token
    .venv/bin/python -m tools.token --email bob@example.com --sign-up   # a second customer (verified email)

Signs in with InitiateAuth (USER_PASSWORD_AUTH) against the moto server that `make run` started, whose
pool, app client and demo customer are in `.local/cognito.json`. Against a deployed pool the storefront
signs in with Cognito's hosted UI or the Amplify / Cognito SDK instead; the backend never sees a password.
"""

import argparse
import json
import os
import sys

from devstack.accounts import SETTINGS_FILE, sign_up


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--email", help="whom to sign in (default: the demo customer)")
    parser.add_argument("--password", help="their password (default: the demo customer's)")
    parser.add_argument("--sign-up", action="store_true", help="create the customer first (email verified)")
    parser.add_argument("--access", action="store_true", help="print the access token, not the ID token")
    args = parser.parse_args(argv)
    if not SETTINGS_FILE.exists():
        print(f"{SETTINGS_FILE} is missing: start the local stack first (make run).", file=sys.stderr)
        return 1
    settings = json.loads(SETTINGS_FILE.read_text())
    os.environ.update(AWS_ENDPOINT_URL=settings["moto_url"], AWS_DEFAULT_REGION=settings["region"],
                      AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local")  # noqa: S106 - moto
    import boto3

    email = args.email or settings["demo_email"]
    password = args.password or settings["demo_password"]
    if args.sign_up:
        sign_up(settings["user_pool_id"], email, password)
    answer = boto3.client("cognito-idp").initiate_auth(
        ClientId=settings["client_id"], AuthFlow="USER_PASSWORD_AUTH",
        AuthParameters={"USERNAME": email, "PASSWORD": password})["AuthenticationResult"]
    print(answer["AccessToken"] if args.access else answer["IdToken"])
    return 0


if __name__ == "__main__":
    sys.exit(main())
