"""The demo storefront (`examples/storefront/`) served on 127.0.0.1:STOREFRONT_PORT by `make run`.

A static file server in a daemon thread. Only `/config.js` is not the file on disk: it is written
for this stack (the API's URL, and Stripe.js from localstripe instead of js.stripe.com), so the
site needs no build step and the copy in the repository keeps production defaults.

    python -m devstack.storefront --port 8080 --api http://127.0.0.1:8000 --stripe http://127.0.0.1:8420
"""

import argparse
import http.server
import json
import logging
import threading

from devstack.stack import ROOT
from devstack.static_site import StaticSite

SITE = ROOT / "examples" / "storefront"
TYPES = {".js": "text/javascript", ".mjs": "text/javascript", ".css": "text/css", ".html": "text/html",
         ".svg": "image/svg+xml", ".json": "application/json", ".png": "image/png", ".ico": "image/x-icon"}

log = logging.getLogger("devstack.storefront")


def config_js(api_url: str, stripe_url: str, cognito: dict | None = None) -> bytes:
    """`cognito`: {"endpoint", "region", "clientId"} of the local pool (its cognito-idp API on the moto server,
    which answers the browser's CORS preflight itself)."""
    config = {"apiBaseUrl": api_url, "stripeJsUrl": f"{stripe_url}/js.stripe.com/v3/"}
    if cognito:
        config["cognito"] = cognito
    return (f"// Written by `make run` (devstack/storefront.py) for the local stack; the file on disk has the\n"
            f"// production defaults.\nexport default {json.dumps(config, indent=2)};\n").encode()


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **TYPES}

    def __init__(self, *args, config: bytes, **kwargs):
        self._config = config
        super().__init__(*args, **kwargs)

    def do_GET(self):
        if self.path.split("?", 1)[0] == "/config.js":
            self.send_response(200)
            self.send_header("Content-Type", "text/javascript; charset=utf-8")
            self.send_header("Content-Length", str(len(self._config)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(self._config)
            return
        super().do_GET()

    def end_headers(self):
        if self.path.split("?", 1)[0] != "/config.js":
            self.send_header("Cache-Control", "no-cache")  # edits show on reload
        super().end_headers()

    def list_directory(self, path):
        self.send_error(404, "Not found")
        return None

    def log_message(self, format, *args):  # the access log would drown the stack's own
        log.debug("%s " + format, self.address_string(), *args)


class Storefront(StaticSite):
    """`Storefront(host, port, api_url, stripe_url, cognito).start()` ... `.stop()`."""

    name = "storefront"

    def __init__(self, host: str, port: int, api_url: str, stripe_url: str, cognito: dict | None = None):
        super().__init__(host, port, _Handler, str(SITE), config=config_js(api_url, stripe_url, cognito))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8080)
    parser.add_argument("--api", default="http://127.0.0.1:8000")
    parser.add_argument("--stripe", default="http://127.0.0.1:8420")
    args = parser.parse_args()
    storefront = Storefront(args.host, args.port, args.api, args.stripe).start()
    print(f"storefront on {storefront.url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        storefront.stop()


if __name__ == "__main__":
    main()
