"""Run localstripe on 127.0.0.1 only, with its state in memory.

localstripe's own `start()` binds every interface (`::`) and pickles its whole store to the fixed
path /tmp/localstripe.pickle on every write, so two instances (a test run beside `make run`) would
overwrite each other's state and every write gets slower as the store grows. This launcher binds
loopback and keeps the store in memory. It also adds the few parts of Stripe's API that localstripe
lacks and this project relies on (idempotency keys first): see `devstack/localstripe_fidelity.py`;
and what a storefront's Stripe.js needs (confirming a card payment in the browser): see
`devstack/stripejs.py`. Webhooks are retried with back-off as Stripe retries them, and can be dropped
on purpose (fault injection): see `devstack/localstripe_webhooks.py`.

    python -m devstack.localstripe --port 8420
"""

import argparse
import logging


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8420)
    args = parser.parse_args()

    from aiohttp import web
    from localstripe import resources, server, webhooks

    from devstack import localstripe_fidelity, localstripe_webhooks, stripejs

    resources.Store.dump_to_disk = lambda self: None
    localstripe_fidelity.install(server, resources)
    stripejs.install(server, resources)
    localstripe_webhooks.install(server, webhooks)
    logging.basicConfig(format="localstripe %(levelname)s %(message)s")
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)
    web.run_app(server.app, host=args.host, port=args.port, print=lambda *a: print(
        f"localstripe listening on http://{args.host}:{args.port}", flush=True))


if __name__ == "__main__":
    main()
