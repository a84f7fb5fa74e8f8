"""A static site served on a daemon thread (the demo storefront, the back office)."""

import http.server
import threading
from functools import partial


class StaticSite:
    """`Site(...).start()` ... `.stop()`: `handler` (a SimpleHTTPRequestHandler subclass) serves
    `directory` on host:port; `options` go to the handler's constructor."""

    name = "static"

    def __init__(self, host: str, port: int, handler: type, directory: str, **options):
        self.server = http.server.ThreadingHTTPServer((host, port), partial(handler, directory=directory, **options))
        self.server.daemon_threads = True
        self.url = f"http://{host}:{port}"
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.2},
                                        name=self.name, daemon=True)

    def start(self):
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._thread.is_alive():
            self.server.shutdown()
        self.server.server_close()
