"""Where a request's own time goes (bench only): the own time (outside AWS and provider calls) of each layer
of a route, median per request, side by side with the floor.

    python -m bench.own_time [--requests 200] [--routes floor,create,add,keyed,patch,read,checkout]

In a warm in-process world (bench/shopper.py, moto and localstripe) every layer below is wrapped in a
timer that takes away what the AWS and Stripe calls inside it took (bench/meter.py); a layer's figure is
inclusive of the layers it calls. The wrappers add about a microsecond each, so the figures are a little
above the shopper's. The `harness` rows are chalice.test's own work (the event, the context, its route
matching over every route of the app): the floor pays them too, the Lambda runtime and API Gateway
instead of them in production. Own time without them is the `Chalice app` row. The floor's boto3 resource
(de)serialisation runs inside its AWS call but is its own time (bench/meter.py): it has a row of its own.
"""

import argparse
import contextlib
import io
import random
import statistics
import sys
import time
import uuid
from collections import defaultdict

import tests.conftest  # noqa: F401 - fake AWS credentials before boto3 is used
from bench import meter, shopper

ADDRESS = {"name": "Ada Lovelace", "line1": "1 Main Street", "city": "Berlin", "postal_code": "10115",
           "country": "DE"}


TRANSFORM = "boto3 resource (de)serialisation inside the AWS call (own time: bench/meter.py)"


def _layers():
    import chalice.app as chalice_app
    import chalice.local as local
    import chalice.test as chalice_test

    from chalicelib import audit, idempotency, observability
    from chalicelib.handlers import carts as cart_routes
    from chalicelib.handlers import checkout as checkout_route
    from chalicelib.handlers import rendering
    from chalicelib.repository import carts as cart_items
    from chalicelib.repository import companies, dynamo, orders
    from chalicelib.services import carts, checkout, price_lists, tenders

    return [
        ("request through chalice.test (all)", chalice_test.TestHTTPClient, "request"),
        ("harness: route matching", local.RouteMatcher, "match_route"),
        ("harness: Lambda event", local.LambdaEventConverter, "create_lambda_event"),
        ("harness: Lambda context", local.LocalGateway, "_generate_lambda_context"),
        ("Chalice app (middleware, dispatch, view)", chalice_app.Chalice, "__call__"),
        ("Chalice: the Request object", chalice_app.RestAPIEventHandler, "create_request_object"),
        ("Chalice: the answer as a Lambda proxy dict", chalice_app.Response, "to_dict"),
        ("middleware (app.py render_errors: rendering.render)", rendering, "render"),
        ("middleware: correlation id", observability, "start"),
        ("middleware: audit context (end, twice)", audit, "end"),
        ("middleware: idempotency", idempotency, "run"),
        ("view", chalice_app.RestAPIEventHandler, "_get_view_function_response"),
        ("body parsing (client input)", cart_routes, "parse"),
        ("body parsing (client input)", checkout_route, "parse"),
        ("read the cart item", cart_items, "get"),
        ("read SKUs and discount (services/price_lists.pricing_inputs)", price_lists, "pricing_inputs"),
        ("of which BatchGetItem, items → records (repository/companies.pricing_batch)", companies, "pricing_batch"),
        ("price the cart", carts, "_priced"),
        ("gift cards and store credit (tenders.for_cart)", tenders, "for_cart"),
        ("record the prices shown (services/carts._stamp)", carts, "_stamp"),
        ("write the cart item", cart_items, "save"),
        ("create the cart item", cart_items, "create"),
        ("checkout: build the order", checkout, "_new_order"),
        ("checkout: create the PaymentIntent", checkout, "_with_payment"),
        ("checkout: the transaction", orders, "place"),
        ("checkout: the answer", checkout.CheckoutResult, "to_text"),
        ("answer as JSON", idempotency, "answer"),
        ("DynamoDB item → dict", dynamo, "from_item"),
        ("dict → DynamoDB item", dynamo, "to_item"),
        (TRANSFORM, None, ""),  # not a wrapper: the meter's own figure (bench/meter.py)
    ]


def measure(requests: int = 200, routes=("floor", "create", "add", "keyed", "patch", "read", "checkout")) -> dict:
    """{route: {layer: median own µs}} over `requests` requests of each route."""
    spent: dict[str, float] = defaultdict(float)
    outer = meter.Meter()

    def outside() -> float:
        return outer.aws_seconds + outer.http_seconds + outer.meter_seconds

    def timed(original, label):
        def call(*args, **kwargs):
            started, before = time.perf_counter(), outside()
            try:
                return original(*args, **kwargs)
            finally:
                spent[label] += time.perf_counter() - started - (outside() - before)
        return call

    result: dict[str, dict[str, float]] = {}
    with shopper.localstripe() as stripe, shopper.world(stripe) as shop, contextlib.redirect_stdout(io.StringIO()):
        rng = random.Random(12)
        for _ in range(3):
            shopper.shop_once(shop, rng, pipeline=False)
        api, skus = shop.api, [v["sku"] for p in shop.products for v in p["variants"]]
        carts = [api.post("/carts", {}).data["id"] for _ in range(requests)]
        for index, cart in enumerate(carts):
            api.post(f"/carts/{cart}/lines", {"sku": skus[index % 5], "quantity": 1})
        # An older tree may lack a layer.
        layers = [layer for layer in _layers() if layer[1] is not None and hasattr(layer[1], layer[2])]
        originals = [(owner, name, getattr(owner, name)) for _, owner, name in layers]
        for (label, owner, name), (_, _, original) in zip(layers, originals, strict=True):
            setattr(owner, name, timed(original, label))
        meter.install()
        meter._active.append(outer)
        try:
            for route in routes:
                samples: dict[str, list[float]] = defaultdict(list)
                for index, cart in enumerate(carts):
                    other = skus[5 + index % 10]
                    if route == "checkout":
                        api.patch(f"/carts/{cart}", {"email": "ada@example.com", "shipping_method": "standard",
                                                     "shipping_address": ADDRESS})
                    spent.clear()
                    transformed = outer.transform_seconds
                    _request(shop, route, cart, other, skus[index % 5])
                    if outer.transform_seconds > transformed:
                        spent[TRANSFORM] += outer.transform_seconds - transformed
                    for label, seconds in spent.items():
                        samples[label].append(seconds * 1e6)
                result[route] = {label: statistics.median(values) for label, values in samples.items()}
        finally:
            meter._active.remove(outer)
            for owner, name, original in originals:
                setattr(owner, name, original)
    return result


def _request(shop, route: str, cart: str, sku: str, first: str) -> None:
    api = shop.api
    key = {"Idempotency-Key": str(uuid.uuid4())}
    answer = {
        "floor": lambda: shop.floor.get("/items/bench"),
        "create": lambda: api.post("/carts", {}),
        "add": lambda: api.post(f"/carts/{cart}/lines", {"sku": sku, "quantity": 1}),
        "keyed": lambda: api.post(f"/carts/{cart}/lines", {"sku": first, "quantity": 1}, headers=key),
        "patch": lambda: api.patch(f"/carts/{cart}/lines/{first}", {"quantity": 2}),
        "read": lambda: api.get(f"/carts/{cart}"),
        "checkout": lambda: api.post(f"/carts/{cart}/checkout", {}, headers=key),
    }[route]()
    if getattr(answer, "status_code", 200) >= 400:
        raise RuntimeError(f"{route}: {answer.status_code} {answer.body!r}")


def table(result: dict) -> str:
    routes = list(result)
    labels = [label for label in dict.fromkeys(label for label, _, _ in _layers())
              if any(label in result[r] for r in routes)]
    lines = ["| own µs (median) | " + " | ".join(routes) + " |", "| --- |" + " ---: |" * len(routes)]
    for label in labels:
        cells = [f"{result[r][label]:.0f}" if label in result[r] else "" for r in routes]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--routes", default="floor,create,add,keyed,patch,read,checkout")
    args = parser.parse_args()
    print(table(measure(args.requests, tuple(args.routes.split(",")))))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
