"""`make run`: the whole stack on 127.0.0.1 until Ctrl-C (or SIGTERM).

moto server and localstripe run as child processes; the API (the Chalice app, served by Chalice's
threaded local server) and the event pump run in this process. The AWS resources come from
`infra/template.yaml`; the app is configured exactly as in production (environment variables, the
admin key hashes from SSM), only pointed at moto and localstripe.
"""

import hashlib
import json
import logging
import os
import secrets
import signal
import sys
import threading
import time

from devstack.stack import ROOT

DEFAULT_PORTS = {"API_PORT": 8000, "MOTO_PORT": 5000, "STRIPE_PORT": 8420, "STOREFRONT_PORT": 8080, "ADMIN_PORT": 8081}
REGION = "eu-west-1"
STAGE = "local"
STACK_NAME = f"commerce-{STAGE}"
ADMIN_KEY_HASHES_PARAM = f"/commerce/{STAGE}/admin-key-hashes"
HOST = "127.0.0.1"
OUTBOX = ROOT / ".local" / "outbox"

log = logging.getLogger("devstack")


class StackFailed(Exception):
    pass


def _ports() -> dict[str, int]:
    ports = {}
    for name, default in DEFAULT_PORTS.items():
        raw = os.environ.get(name, str(default))
        if not raw.isdigit() or not 0 < int(raw) < 65536:
            raise StackFailed(f"{name}={raw!r} is not a port number")
        ports[name] = int(raw)
    return ports


def _interrupt(signum, frame):
    raise KeyboardInterrupt


def _configure_aws(moto_url: str) -> None:
    """Point every boto3 client of this process at moto, with credentials that cannot reach AWS."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"):
        os.environ.pop(name, None)
    os.environ.update(AWS_ENDPOINT_URL=moto_url, AWS_DEFAULT_REGION=REGION, AWS_REGION=REGION,
                      AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local")  # noqa: S106 - moto takes any
    from devstack import faults

    faults.install()  # DEVSTACK_DYNAMODB_TIMEOUTS, off unless set (devstack/faults.py)


def _create_world(ports: dict[str, int], admin_key: str, webhook_secret: str) -> dict[str, str]:
    """Stack from the template, admin key hash in SSM, and the app's environment."""
    import boto3

    from devstack.stack import create_stack

    outputs = create_stack(boto3.client("cloudformation"), STACK_NAME, STAGE)
    boto3.client("ssm").put_parameter(Name=ADMIN_KEY_HASHES_PARAM, Type="SecureString",
                                      Value=hashlib.sha256(admin_key.encode()).hexdigest())
    # A secret's `<NAME>_PARAM` from the developer's shell would send the app to SSM for it.
    for name in [name for name in os.environ if name.endswith("_PARAM")] + ["ADMIN_KEY_HASHES"]:
        os.environ.pop(name, None)
    storefront = f"http://{HOST}:{ports['STOREFRONT_PORT']}"
    # One moto server takes DynamoDB calls one at a time; on a loaded machine a call can wait longer than
    # the 5 s that suits DynamoDB, and a timed-out call still runs in moto while its retry queues behind it.
    os.environ.setdefault("DYNAMODB_READ_TIMEOUT_SECONDS", "20")
    os.environ.update(
        STAGE=STAGE,
        TABLE_NAME=outputs["TableName"],
        TABLE_STREAM_ARN=outputs["TableStreamArn"],
        FULFILMENT_QUEUE_URL=outputs["FulfilmentQueueUrl"],
        EMAIL_QUEUE_URL=outputs["EmailQueueUrl"],
        VIEWS_BUCKET=outputs["ViewsBucketName"],
        DOCUMENTS_BUCKET=outputs["DocumentsBucketName"],
        IMAGES_BUCKET=outputs["ImagesBucketName"],
        # No CloudFront locally: images are read from the moto server's S3 (path style).
        IMAGES_BASE_URL=(os.environ.get("IMAGES_BASE_URL")
                         or f"{os.environ['AWS_ENDPOINT_URL']}/{outputs['ImagesBucketName']}"),
        ADMIN_KEY_HASHES_PARAM=ADMIN_KEY_HASHES_PARAM,
        STRIPE_API_BASE=f"http://{HOST}:{ports['STRIPE_PORT']}",
        STRIPE_SECRET_KEY="sk_test_local_devstack",  # noqa: S106 - localstripe accepts any sk_test_ key
        STRIPE_PUBLISHABLE_KEY="pk_test_local_devstack",
        STRIPE_WEBHOOK_SECRETS=webhook_secret,
        CART_LINK_SECRET=secrets.token_urlsafe(32),
        UNSUBSCRIBE_SECRET=secrets.token_urlsafe(32),
        GIFT_CARD_SECRET=secrets.token_urlsafe(32),
        BANK_WEBHOOK_SECRET=os.environ.get("BANK_WEBHOOK_SECRET", "local-bank-secret"),
        API_URL=f"http://{HOST}:{ports['API_PORT']}",
        STOREFRONT_URL=storefront,
        CORS_ALLOW_ORIGIN=os.environ.get("CORS_ALLOW_ORIGIN") or storefront,
        ADMIN_ORIGIN=os.environ.get("ADMIN_ORIGIN") or f"http://{HOST}:{ports['ADMIN_PORT']}",
        OUTBOX_DIR=os.environ.get("OUTBOX_DIR") or str(OUTBOX),
    )
    from devstack.accounts import create_pool

    create_pool(os.environ["AWS_ENDPOINT_URL"], STAGE)
    from chalicelib import config

    config.reset()
    # SES (and moto) refuse mail from an unverified sender.
    boto3.client("sesv2").create_email_identity(EmailIdentity=config.settings().email_sender)
    _serve_images(boto3.client("s3"), outputs["ImagesBucketName"])
    return outputs


def _serve_images(s3, bucket: str) -> None:
    """What CloudFront does in AWS (reads the private images bucket for shoppers): locally, browsers read
    the images straight from the moto server, which a bucket policy lets them do without signing."""
    s3.delete_public_access_block(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Sid": "LocalShoppersReadImages", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
        "Resource": f"arn:aws:s3:::{bucket}/*"}]}))


def _register_webhook(stripe_url: str, api_url: str, webhook_secret: str) -> None:
    import requests

    answer = requests.post(f"{stripe_url}/_config/webhooks/local", timeout=10,
                           data={"url": f"{api_url}/webhooks/stripe", "secret": webhook_secret})
    answer.raise_for_status()


def _start_api(app, port: int):
    """Chalice's local dev server (threaded; passes the raw body through) in a daemon thread."""
    from chalice.config import Config

    from devstack.gateway import local_server

    # A bare Config, not the one built from .chalice/config.json: that one's stage environment
    # variables would override the environment set above.
    config = Config.create(chalice_stage=STAGE, app_name=app.app_name, lambda_timeout=30, lambda_memory_size=512)
    from chalice.local import ThreadedHTTPServer

    # socketserver's default listen backlog of 5 drops connections under a burst (the load test's
    # 50 users); API Gateway has no such limit.
    ThreadedHTTPServer.request_queue_size = 128
    server = local_server(app, config, HOST, port)
    thread = threading.Thread(target=server.server.serve_forever, kwargs={"poll_interval": 0.2}, name="api",
                              daemon=True)
    thread.start()
    return server, thread


def admin_built() -> bool:
    from devstack.admin import built

    return built()


def _banner(ports: dict[str, int], admin_key: str, generated: bool, pumped: list[str]) -> str:
    api = f"http://{HOST}:{ports['API_PORT']}"
    key_note = "  (generated; set LOCAL_ADMIN_KEY to choose one)" if generated else ""
    lines = [
        "",
        "commerce local stack",
        f"  storefront   http://{HOST}:{ports['STOREFRONT_PORT']}  (demo shop; test card 4242 4242 4242 4242)",
        f"  back office  http://{HOST}:{ports['ADMIN_PORT']}  (staff: owner|manager|support|fulfilment"
        "@staff.example.com / Demo-staff-01, or the admin key"
        + (")" if admin_built() else "; not built yet: run `make admin`)"),
        f"  API          {api}",
        f"  moto (AWS)   http://{HOST}:{ports['MOTO_PORT']}",
        f"  localstripe  http://{HOST}:{ports['STRIPE_PORT']}  (webhooks -> {api}/webhooks/stripe)",
        f"  admin key    {admin_key}{key_note}",
        "  event pump   " + ("\n               ".join(pumped) if pumped else "no event handlers in app.py yet"),
        f"  emails       {os.environ['OUTBOX_DIR']}/*.eml",
        f"  customer     {os.environ['COGNITO_USER_POOL_ID']}: demo@example.com / Demo-customer-1; "
        "a token: .venv/bin/python -m tools.token",
        f"  try          curl -s {api}/products | python3 -m json.tool",
        "Ctrl-C stops everything.",
    ]
    return "\n".join(lines)


def main() -> int:
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    for noisy in ("botocore", "stripe"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    # Explicitly, for SIGINT too: a shell starts background jobs with SIGINT ignored.
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    from devstack.processes import Child, port_is_free

    children: list[Child] = []
    server = pump = storefront = admin_site = None
    started = time.monotonic()
    try:
        ports = _ports()
        busy = [f"{name}={port}" for name, port in ports.items() if not port_is_free(port)]
        if busy:
            raise StackFailed(f"port(s) in use on {HOST}: {', '.join(busy)}; stop what uses them or choose others")
        moto = Child("devstack.motoserver", ports["MOTO_PORT"], "moto server")
        stripe = Child("devstack.localstripe", ports["STRIPE_PORT"], "localstripe")
        children = [moto.start(), stripe.start()]
        _configure_aws(moto.url)
        admin_key = os.environ.get("LOCAL_ADMIN_KEY") or secrets.token_urlsafe(24)
        webhook_secret = "whsec_" + secrets.token_hex(24)
        for child in children:
            child.wait_until_listening()
        outputs = _create_world(ports, admin_key, webhook_secret)

        from app import app
        from devstack import faults
        from devstack.admin import AdminSite
        from devstack.demo_orders import DEMO_ORDERS, seed_orders
        from devstack.pump import Pump
        from devstack.seed import LOW_STOCK_SKU, seed
        from devstack.storefront import Storefront

        demo_orders = os.environ.get("DEMO_ORDERS", str(DEMO_ORDERS))
        if not demo_orders.isdigit():
            raise StackFailed(f"DEMO_ORDERS={demo_orders!r} is not a number")
        seed_orders(seed(), excluded_skus=(LOW_STOCK_SKU,), count=int(demo_orders))
        api_url = f"http://{HOST}:{ports['API_PORT']}"
        _register_webhook(stripe.url, api_url, webhook_secret)
        faults.activate()
        server, api_thread = _start_api(app, ports["API_PORT"])
        cognito = {"endpoint": moto.url, "region": REGION, "clientId": os.environ["COGNITO_CLIENT_ID"]}
        storefront = Storefront(HOST, ports["STOREFRONT_PORT"], api_url, stripe.url, cognito).start()
        admin_site = AdminSite(HOST, ports["ADMIN_PORT"], api_url, cognito).start()
        pump = Pump(app, endpoint_url=moto.url, region=REGION, table_stream_arn=outputs["TableStreamArn"],
                    stream_failure_queue_url=outputs["StreamFailureQueueUrl"],
                    schedule_seconds=float(os.environ.get("PUMP_SCHEDULE_SECONDS", "30")))
        pumped = pump.start()
        print(_banner(ports, admin_key, not os.environ.get("LOCAL_ADMIN_KEY"), pumped), flush=True)
        log.info("started in %.1f s", time.monotonic() - started)
        print("ready", flush=True)
        while True:
            time.sleep(0.5)
            for child in children:
                if child.exit_code is not None:
                    raise StackFailed(f"{child.name} exited unexpectedly with code {child.exit_code}")
            if not api_thread.is_alive():
                raise StackFailed("the API server stopped unexpectedly")
    except KeyboardInterrupt:
        print("stopping...", file=sys.stderr, flush=True)
        return 0
    except StackFailed as error:
        log.error("%s", error)
        return 1
    except Exception:
        log.exception("the local stack failed")
        return 1
    finally:
        # A second Ctrl-C must not leave children behind half-way through stopping them.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        # The pump is told first and not waited for: its long polls end when moto goes, and the
        # state of a half-done delivery dies with moto anyway.
        if pump is not None:
            pump.stop(timeout=None)
        if storefront is not None:
            storefront.stop()
        if admin_site is not None:
            admin_site.stop()
        if server is not None:
            server.shutdown()
            server.server.server_close()
        for child in reversed(children):
            child.stop()
        if pump is not None:
            pump.stop(timeout=2)


if __name__ == "__main__":
    sys.exit(main())
