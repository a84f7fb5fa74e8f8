"""chalicelib/payments/stripe_http.py against the pinned stripe SDK (a dev dependency here): the same
form encoding and the same API version, so the answers keep the shape the SDK's tests saw."""

from urllib.parse import urlencode

from chalicelib.payments import stripe_http


def test_the_form_encoding_is_the_sdks_for_every_shape_the_provider_sends():
    from stripe._encode import _api_encode

    for params in (
        {"amount": 2599, "currency": "eur", "metadata": {"order_id": "ord_1"}, "payment_method_types": ["card"],
         "receipt_email": "ada@example.com", "payment_method": "pm_card_visa", "confirm": True},
        {"expand": ["latest_charge"]},
        {"payment_intent": "pi_123", "amount": 100},
        {"created": {"gte": 1796000000, "lt": 1796003600}, "limit": 100, "starting_after": "pi_123"},
        {"cancellation_reason": "abandoned"},
        {"payment_method": "pm_card_visa", "skipped": None, "nested": {"a": {"b": [1, 2]}, "flag": False}},
    ):
        assert urlencode(stripe_http.encode(params)) == urlencode(list(_api_encode(params)))


def test_the_api_version_is_the_pinned_sdks():
    from stripe._api_version import _ApiVersion

    assert stripe_http.API_VERSION == _ApiVersion.CURRENT
