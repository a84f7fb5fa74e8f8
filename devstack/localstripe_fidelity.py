"""What localstripe 1.15 leaves out of Stripe's API and this project relies on, added at launch.

- Idempotency keys (https://docs.stripe.com/api/idempotent_requests): Stripe answers a POST that
  repeats an `Idempotency-Key` with the saved answer of the first one (header `Idempotent-Replayed:
  true`) and refuses the key with other parameters (400 `idempotency_error`). localstripe ignores
  the header, so a retried checkout would create a second PaymentIntent. Keys are kept for the life
  of the process (Stripe keeps them 24 hours).
- Confirming a PaymentIntent with a `payment_method` (localstripe answers 500 "Not implemented"),
  also after a declined attempt, as Stripe allows.
- `PaymentIntent.receipt_email`, which localstripe refuses with 400 "Unexpected receipt_email".
- `PaymentIntent.amount_received`, which localstripe's PaymentIntent (and so its events) lacks.
- Listing PaymentIntents as Stripe does (https://docs.stripe.com/api/payment_intents/list): newest first
  (localstripe lists them oldest first) and filtered by `created[gt|gte|lt|lte]` (localstripe refuses
  the parameter with 400 "Unexpected created").
- Cancelling a PaymentIntent with a `cancellation_reason` (localstripe refuses any parameter), which the
  PaymentIntent then shows, as Stripe's does.
"""

import re


def install(server, resources) -> None:
    server.app.middlewares.insert(0, _idempotency_middleware())  # outermost: sees rendered errors
    server.app.middlewares.append(_confirm_with_payment_method(server, resources))  # innermost: after auth
    server.app.middlewares.append(_cancel_with_reason(server, resources))
    _list_newest_first(resources)
    _accept_receipt_email(resources.PaymentIntent)
    resources.PaymentIntent.amount_received = property(
        lambda intent: intent.amount if intent.status == "succeeded" else 0)


def _idempotency_middleware():
    from aiohttp import web

    # (Authorization, key) -> (request fingerprint, saved answer or None while the first is running)
    saved: dict[tuple[str, str], tuple[bytes, tuple[int, bytes, str] | None]] = {}

    def error(status: int, message: str, kind: str, code: str | None = None):
        body = {"error": {"message": message, "type": kind, **({"code": code} if code else {})}}
        return web.json_response(body, status=status)

    @web.middleware
    async def idempotency(request, handler):
        key = request.headers.get("Idempotency-Key")
        if request.method != "POST" or not key:
            return await handler(request)
        scope = (request.headers.get("Authorization", ""), key)
        fingerprint = request.path.encode() + b"\n" + await request.read()
        if scope in saved:
            first_fingerprint, answer = saved[scope]
            if answer is None:
                return error(409, "There is currently another in-progress request using this idempotency key.",
                             "invalid_request_error", "idempotency_key_in_use")
            if first_fingerprint != fingerprint:
                return error(400, "Keys for idempotent requests can only be used with the same parameters they "
                                  "were first used with.", "idempotency_error")
            status, body, content_type = answer
            return web.Response(body=body, status=status, headers={
                "Content-Type": content_type, "Idempotency-Key": key, "Idempotent-Replayed": "true"})
        saved[scope] = (fingerprint, None)
        try:
            response = await handler(request)
        except BaseException:
            del saved[scope]
            raise
        if response.status < 400 or response.status == 402:  # Stripe saves a declined card's answer too
            saved[scope] = (fingerprint, (response.status, response.body or b"",
                                          response.headers.get("Content-Type", "application/json")))
        else:
            del saved[scope]  # Stripe saves nothing for a request that failed validation
        return response

    return idempotency


def _confirm_with_payment_method(server, resources):
    from aiohttp import web

    path = re.compile(r"/v1/payment_intents/(\w+)/confirm")

    @web.middleware
    async def confirm(request, handler):
        match = path.fullmatch(request.path)
        data = await server.get_post_data(request) if request.method == "POST" and match else None
        if not data or not data.get("payment_method"):
            return await handler(request)
        intent = resources.PaymentIntent._api_retrieve(match[1])
        method = resources.PaymentMethod._api_retrieve(data.pop("payment_method"))  # 404 when unknown
        if intent.status in ("requires_payment_method", "requires_confirmation", "requires_action"):
            intent.payment_method, intent.next_action = method.id, None
            if intent.latest_charge is not None and intent.latest_charge.status == "failed":
                intent.latest_charge = None  # a new attempt; the declined charge stays in the store
        expand = data.pop("expand", None)
        return server.json_response(resources.PaymentIntent._api_confirm(id=match[1], **data)._export(expand=expand))

    return confirm


def _accept_receipt_email(payment_intent_class) -> None:
    create = payment_intent_class.__init__

    def __init__(self, *args, receipt_email=None, **kwargs):
        create(self, *args, **kwargs)
        self.receipt_email = receipt_email

    payment_intent_class.__init__ = __init__


CANCELLATION_REASONS = ("duplicate", "fraudulent", "requested_by_customer", "abandoned")


def _cancel_with_reason(server, resources):
    from aiohttp import web

    path = re.compile(r"/v1/payment_intents/(\w+)/cancel")
    resources.PaymentIntent.cancellation_reason = None  # an attribute of every PaymentIntent, as at Stripe

    @web.middleware
    async def cancel(request, handler):
        match = path.fullmatch(request.path)
        if request.method != "POST" or not match:
            return await handler(request)
        data = await server.get_post_data(request) or {}
        reason = data.pop("cancellation_reason", None)
        if reason is not None and reason not in CANCELLATION_REASONS:
            raise resources.UserError(400, "Invalid cancellation_reason: one of " + ", ".join(CANCELLATION_REASONS))
        expand = data.pop("expand", None)
        intent = resources.PaymentIntent._api_cancel(id=match[1], **data)  # 400 in a state that cannot be cancelled
        intent.cancellation_reason = reason
        return server.json_response(intent._export(expand=expand))

    return cancel


def _list_newest_first(resources) -> None:
    compare = {"gt": int.__gt__, "gte": int.__ge__, "lt": int.__lt__, "lte": int.__le__}
    invalid = "Invalid created: an integer, or a dictionary of gt, gte, lt and lte integers"

    def list_all(cls, url, limit=None, starting_after=None, created=None, **kwargs):
        if kwargs:
            raise resources.UserError(400, "Unexpected " + ", ".join(kwargs))
        bounds = {} if created is None else created if isinstance(created, dict) else {"eq": created}
        try:
            tests = [(compare.get(name, int.__eq__), int(value)) for name, value in bounds.items()]
        except (TypeError, ValueError):
            raise resources.UserError(400, invalid) from None
        if not set(bounds) <= {*compare, "eq"}:
            raise resources.UserError(400, invalid)
        page = resources.List(url, limit=limit, starting_after=starting_after)
        # The store keeps creation order; Stripe lists the newest first.
        page._list = [value for key, value in reversed(list(resources.store.items()))
                      if key.startswith(cls.object + ":") and all(test(value.created, v) for test, v in tests)]
        return page

    resources.PaymentIntent._api_list_all = classmethod(list_all)
