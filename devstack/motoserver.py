"""Run moto's server on 127.0.0.1, quiet, with DynamoDB requests taken one at a time.

Two changes from `python -m moto.server`:

- No log line per request: the event pump long-polls the queues and the table's stream all the
  time, so werkzeug's access log would drown everything else. Errors still show.
- DynamoDB and DynamoDB Streams requests are serialised. moto's TransactWriteItems snapshots the
  whole table (a deep copy) and puts the snapshot back when the transaction is cancelled, so any
  write another request committed in between is silently lost (measured: 200 concurrent increments
  beside cancelled transactions left 194), and a stream reader could see the cancelled writes.
  Real DynamoDB has neither problem; one lock makes moto behave.
- moto's DynamoDB made DynamoDB-like where it costs O(table) per request (transactions that
  deep-copied the table, queries that sorted it, a stream and shard iterators kept for ever): see
  `devstack/moto_fidelity.py`.

    python -m devstack.motoserver --port 5000
"""

import argparse
import logging
import signal
import sys
import threading

SERIALISED_TARGETS = ("DynamoDB_", "DynamoDBStreams_")


def serialise_dynamodb(app):
    """Wrap a WSGI app so that DynamoDB (and its streams) requests run one at a time."""
    lock = threading.Lock()

    def wrapped(environ, start_response):
        if environ.get("HTTP_X_AMZ_TARGET", "").startswith(SERIALISED_TARGETS):
            with lock:
                return app(environ, start_response)
        return app(environ, start_response)

    return wrapped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()

    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import run_simple

    from devstack import moto_fidelity

    moto_fidelity.install()
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    run_simple(args.host, args.port, serialise_dynamodb(DomainDispatcherApplication(create_backend_app)),
               threaded=True, request_handler=MotoRequestHandler)


if __name__ == "__main__":
    main()
