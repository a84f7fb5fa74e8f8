"""The browser half of Stripe in localstripe: what a storefront's Stripe.js calls, done as Stripe does.

localstripe 1.15 serves a Stripe.js stand-in at `/js.stripe.com/v3/`, but its
`confirmCardPayment(client_secret, {payment_method: {card: element}})` ignores the card: it always
shows a 3-D Secure box and calls `/_authenticate`, which only works for a PaymentIntent already
confirmed server-side with a 3-D Secure card; for the usual flow (the backend creates the
PaymentIntent, the browser confirms it with the card) it answers 400. And localstripe refuses a
confirmation authenticated the way Stripe.js does it (publishable key + client secret).

Installed by `devstack/localstripe.py`:

- `POST /v1/payment_intents/{id}/confirm` with `key=pk_...` and the PaymentIntent's `client_secret`
  (instead of a secret key), with `payment_method_data` (a card: number, exp_month, exp_year, cvc)
  or a `payment_method` id: the card becomes a PaymentMethod and the PaymentIntent is confirmed
  with it, also after a declined attempt. A wrong client secret is a 404, as at Stripe.
- `/js.stripe.com/v3/` answers localstripe's script followed by `devstack/stripejs.js`, whose
  `confirmCardPayment` uses that route and asks for 3-D Secure only when the PaymentIntent needs it.

Test cards (localstripe's): 4242 4242 4242 4242 succeeds; 4000 0000 0000 0341 is declined (402
`card_declined`); 4000 0027 6000 3184 asks for 3-D Secure (the stand-in's box: "Complete
authentication" or "Fail authentication").
"""

import re
from pathlib import Path

PATCH = Path(__file__).with_name("stripejs.js")
CONFIRM_PATH = re.compile(r"/v1/payment_intents/(pi_\w+)/confirm")
SCRIPT_PATH = "/js.stripe.com/v3/"


def install(server, resources) -> None:
    # After the idempotency middleware (index 0), before localstripe's own error and auth middlewares.
    server.app.middlewares.insert(1, _browser_middleware(server, resources))


def _browser_middleware(server, resources):
    from aiohttp import web
    from localstripe.errors import UserError

    script = (Path(server.__file__).with_name("localstripe-v3.js").read_text() + "\n" + PATCH.read_text())

    @web.middleware
    async def browser(request, handler):
        if request.method == "GET" and request.path == SCRIPT_PATH:
            return web.Response(text=script, content_type="application/javascript",
                                headers={"Cache-Control": "no-store"})
        match = CONFIRM_PATH.fullmatch(request.path)
        if request.method != "POST" or match is None or request.headers.get("Authorization"):
            return await handler(request)
        data = await server.get_post_data(request, remove_auth=False) or {}
        if not str(data.get("key", "")).startswith("pk_"):
            return await handler(request)  # localstripe's auth answers 401
        try:
            intent = _confirm(resources, UserError, match[1], data)
        except UserError as error:
            return error.to_response()
        return server.json_response(intent._export())

    return browser


def _confirm(resources, user_error, intent_id: str, data: dict):
    intent = resources.store.get(f"payment_intent:{intent_id}")
    if intent is None or data.get("client_secret") != intent.client_secret:
        raise user_error(404, f"No such payment_intent: '{intent_id}'", {"code": "resource_missing"})
    if intent.status not in ("requires_payment_method", "requires_confirmation", "requires_action"):
        raise user_error(400, f"This PaymentIntent's status is {intent.status}; it cannot be confirmed.",
                         {"code": "payment_intent_unexpected_state"})
    method_data, method_id = data.get("payment_method_data"), data.get("payment_method")
    if isinstance(method_data, dict):
        method_data = {k: v for k, v in method_data.items() if k in ("type", "card", "billing_details")}
        method = resources.PaymentMethod._api_create(**method_data)  # 400 for a malformed card
    elif isinstance(method_id, str):
        method = resources.PaymentMethod._api_retrieve(method_id)  # 404 when unknown
    elif intent.payment_method:
        method = resources.PaymentMethod._api_retrieve(intent.payment_method)
    else:
        raise user_error(400, "You must provide a payment method.", {"code": "payment_intent_unexpected_state"})
    intent.payment_method, intent.next_action = method.id, None
    if intent.latest_charge is not None and intent.latest_charge.status == "failed":
        intent.latest_charge = None  # a new attempt; the declined charge stays in the store
    return resources.PaymentIntent._api_confirm(id=intent_id)
