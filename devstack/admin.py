"""The back office (`admin/`, built into admin/dist by `make admin`) served on 127.0.0.1:ADMIN_PORT
by `make run`. A static file server in a daemon thread; `/config.json` is written for this stack
(the API's URL), as infra/ writes it next to the files in the deployed bucket.

    python -m devstack.admin --port 8081 --api http://127.0.0.1:8000
"""

import argparse
import gzip
import http.server
import json
import logging
import threading

from devstack.stack import ROOT
from devstack.static_site import StaticSite

DIST = ROOT / "admin" / "dist"
TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html", ".svg": "image/svg+xml",
         ".json": "application/json"}
COMPRESSED = {".js", ".css", ".html"}

log = logging.getLogger("devstack.admin")


def config_json(api_url: str, cognito: dict | None = None) -> bytes:
    """`cognito`: {"endpoint", "region", "clientId"} of the pool staff sign in to (the local stack's moto)."""
    return json.dumps({"apiBaseUrl": api_url} | ({"cognito": cognito} if cognito else {})).encode()


def built() -> bool:
    return (DIST / "index.html").is_file()


class _Handler(http.server.SimpleHTTPRequestHandler):
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map, **TYPES}

    def __init__(self, *args, config: bytes, **kwargs):
        self._config = config
        super().__init__(*args, **kwargs)

    def _send(self, body: bytes, content_type: str, cache: str) -> None:
        gzipped = "gzip" in (self.headers.get("Accept-Encoding") or "")
        if gzipped:
            body = gzip.compress(body, 6)
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", cache)
        if gzipped:
            self.send_header("Content-Encoding", "gzip")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        if path == "/config.json":
            return self._send(self._config, "application/json", "no-store")
        name = "index.html" if path == "/" else path.lstrip("/")
        file = (DIST / name).resolve()
        if DIST.resolve() not in file.parents or not file.is_file():
            return self.send_error(404, "Not found")
        # Like CloudFront: compressed, hashed assets cached for good, index.html revalidated.
        cache = "public, max-age=31536000, immutable" if name.startswith("assets/") else "no-cache"
        content_type = TYPES.get(file.suffix, "application/octet-stream")
        if file.suffix in COMPRESSED:
            return self._send(file.read_bytes(), content_type, cache)
        return super().do_GET()

    do_HEAD = do_GET

    def list_directory(self, path):
        self.send_error(404, "Not found")
        return None

    def log_message(self, format, *args):
        log.debug("%s " + format, self.address_string(), *args)


class AdminSite(StaticSite):
    """`AdminSite(host, port, api_url, cognito).start()` ... `.stop()`."""

    name = "admin"

    def __init__(self, host: str, port: int, api_url: str, cognito: dict | None = None):
        super().__init__(host, port, _Handler, str(DIST), config=config_json(api_url, cognito))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--api", default="http://127.0.0.1:8000")
    args = parser.parse_args()
    site = AdminSite(args.host, args.port, args.api).start()
    print(f"back office on {site.url}" + ("" if built() else " (not built: run `make admin`)"), flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        site.stop()


if __name__ == "__main__":
    main()
