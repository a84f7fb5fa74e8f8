"""The local API server: Chalice's, answering what API Gateway answers itself as the deployed API
does (infra/package.py, GATEWAY_RESPONSES): an unknown path is a 404 `resource_missing` in our
envelope with the CORS origin, not Chalice's bare 403 `{"message": "Missing Authentication Token"}`.
An unknown method on a known path reaches the app, which answers 405 `invalid_request` itself.
"""

import functools
import json

from chalice.local import ChaliceRequestHandler, ForbiddenError, create_local_server

from chalicelib import config
from chalicelib.errors import ResourceMissing
from chalicelib.handlers.rendering import allowed_origin


class EnvelopeRequestHandler(ChaliceRequestHandler):
    def _send_error_response(self, error) -> None:
        # Chalice's LocalGateway raises ForbiddenError only for a path no route matches (this app has
        # no authorizers), as API Gateway's MISSING_AUTHENTICATION_TOKEN.
        if not isinstance(error, ForbiddenError):
            return super()._send_error_response(error)
        body = ResourceMissing("No route matches this method and path.").to_dict()
        headers = {"Content-Type": "application/json", "x-amzn-RequestId": error.headers.get("x-amzn-RequestId", "")}
        origin = config.settings().cors_allow_origin
        if origin:
            headers["Access-Control-Allow-Origin"] = origin
        self._send_http_response(404, headers, json.dumps(body).encode())

    def _send_http_response(self, code, headers, body) -> None:
        # The preflight (answered by Chalice's LocalGateway, not the app) for the back office too.
        origin = allowed_origin(self.headers.get("Origin"))
        if origin and "Access-Control-Allow-Origin" in headers:
            headers = {**headers, "Access-Control-Allow-Origin": origin, "Vary": "Origin"}
        super()._send_http_response(code, headers, body)


def local_server(app, chalice_config, host: str, port: int):
    """chalice.local's server for `app`, with EnvelopeRequestHandler."""
    server = create_local_server(app, chalice_config, host, port)
    server.server.RequestHandlerClass = functools.partial(EnvelopeRequestHandler, app_object=app,
                                                          config=chalice_config)
    return server
