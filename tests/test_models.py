"""Pure rules of the domain models: cart totals, line edits and rounding. No AWS."""

import ast
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from pydantic import BaseModel

from chalicelib.models import Address, CartLineRecord, CartRecord, SkuRecord, round_half_up
from chalicelib.models.pricing import PricingContext, ShippingRate, price_cart

NOW = datetime(2026, 11, 22, 10, 15, tzinfo=UTC)
METHODS = (
    ShippingRate(id="standard", title="Standard", price={"EUR": 495, "USD": 595}, free_over={"EUR": 5000}),
    ShippingRate(id="express", title="Express", price={"EUR": 1295}),
)
TAX_RATES = {"DE": 1900, "IE": 2300, "US": 0, "LU": 1700}
PRICING = PricingContext(shipping_methods=METHODS, tax_rates=TAX_RATES)


def sku(code: str, price: int = 1000, currency: str = "EUR", active: bool = True) -> SkuRecord:
    return SkuRecord(sku=code, product_id="prod_1", product_title="T-shirt", title=code, price=price,
                     currency=currency, active=active, on_hand=10, available=10)


def cart(lines: dict[str, int] | None = None, currency: str = "EUR", method: str | None = None,
         country: str | None = None) -> CartRecord:
    address = None
    if country:
        address = Address(name="Ada", line1="1 Main Street", city="Town", postal_code="1000", country=country)
    return CartRecord(id="cart_1", currency=currency, shipping_method=method, shipping_address=address,
                      lines=[CartLineRecord(sku=s, quantity=q) for s, q in (lines or {}).items()],
                      created_at=NOW, updated_at=NOW, expires_at=int(NOW.timestamp()))


def priced(record: CartRecord, *variants: SkuRecord):
    return price_cart(record, {v.sku: v for v in variants}, None, PRICING)


# --- totals ------------------------------------------------------------------------------------


def test_subtotal_is_the_sum_of_unit_price_times_quantity():
    result = priced(cart({"A": 2, "B": 1}), sku("A", 1999), sku("B", 500))

    assert [(line.sku, line.unit_price, line.line_total) for line in result.lines] == [("A", 1999, 3998),
                                                                                       ("B", 500, 500)]
    assert result.subtotal == 4498
    assert result.total == 4498


def test_line_title_combines_product_and_variant():
    result = priced(cart({"A": 1}), sku("A"))

    assert result.lines[0].title == "T-shirt – A"
    assert result.lines[0].product_id == "prod_1"


def test_chosen_shipping_method_adds_its_flat_price():
    result = priced(cart({"A": 1}, method="express"), sku("A", 1000))

    assert result.shipping_total == 1295
    assert result.total == 1000 + 1295


def test_shipping_is_free_from_the_threshold_of_the_cart_currency():
    below = priced(cart({"A": 1}, method="standard"), sku("A", 4999))
    at = priced(cart({"A": 1}, method="standard"), sku("A", 5000))

    assert below.shipping_total == 495
    assert at.shipping_total == 0
    assert {m.id: m.price for m in at.available_shipping_methods} == {"standard": 0, "express": 1295}


def test_free_over_threshold_applies_only_in_currencies_that_have_one():
    result = priced(cart({"A": 1}, currency="USD", method="standard"), sku("A", 100_000, currency="USD"))

    assert result.shipping_total == 595


def test_only_methods_priced_in_the_cart_currency_are_offered():
    result = priced(cart({"A": 1}, currency="USD"), sku("A", currency="USD"))

    assert [m.id for m in result.available_shipping_methods] == ["standard"]


def test_empty_cart_has_no_shipping_even_with_a_method_chosen():
    result = priced(cart(method="express", country="DE"))

    assert result.lines == []
    assert (result.subtotal, result.shipping_total, result.tax_total, result.total) == (0, 0, 0, 0)


def test_tax_is_charged_on_merchandise_plus_shipping_at_the_destination_rate():
    result = priced(cart({"A": 1}, method="standard", country="DE"), sku("A", 1999))

    # 19 % of (1999 + 495) = 473.86 -> 474
    assert result.tax_total == 474
    assert result.total == 1999 + 495 + 474


def test_tax_rate_follows_the_destination_country():
    germany = priced(cart({"A": 1}, country="DE"), sku("A", 1000))
    ireland = priced(cart({"A": 1}, country="IE"), sku("A", 1000))
    united_states = priced(cart({"A": 1}, country="US"), sku("A", 1000))

    assert (germany.tax_total, ireland.tax_total, united_states.tax_total) == (190, 230, 0)


def test_tax_rounds_half_a_minor_unit_up():
    # 17 % of 50 = 8.5: half-up gives 9 where banker's rounding would give 8.
    result = priced(cart({"A": 1}, country="LU"), sku("A", 50))

    assert result.tax_total == 9


def test_tax_rounds_below_half_down():
    # 19 % of 1001 = 190.19
    result = priced(cart({"A": 1}, country="DE"), sku("A", 1001))

    assert result.tax_total == 190


def test_no_tax_without_a_shipping_address():
    result = priced(cart({"A": 3}, method="standard"), sku("A", 1000))

    assert result.tax_total == 0
    assert result.total == 3000 + 495


def test_no_tax_for_a_country_without_a_configured_rate():
    result = priced(cart({"A": 1}, country="JP"), sku("A", 1000))

    assert result.tax_total == 0


# --- lines left out ------------------------------------------------------------------------------


def test_lines_of_inactive_skus_are_left_out_of_view_and_totals():
    result = priced(cart({"A": 1, "B": 2}), sku("A", 1000), sku("B", 700, active=False))

    assert [line.sku for line in result.lines] == ["A"]
    assert result.subtotal == 1000


def test_lines_of_unknown_skus_are_left_out():
    result = priced(cart({"GONE": 1, "A": 1}), sku("A", 1000))

    assert [line.sku for line in result.lines] == ["A"]
    assert result.subtotal == 1000


def test_lines_priced_in_another_currency_are_left_out():
    result = priced(cart({"A": 1, "B": 1}), sku("A", 1000), sku("B", 1000, currency="USD"))

    assert [line.sku for line in result.lines] == ["A"]
    assert result.subtotal == 1000


def test_a_cart_of_only_unsellable_lines_has_no_shipping():
    result = priced(cart({"B": 1}, method="express"), sku("B", active=False))

    assert result.lines == []
    assert result.shipping_total == 0
    assert result.total == 0


# --- line edits ----------------------------------------------------------------------------------


def test_with_quantity_appends_a_new_sku_at_the_end():
    result = cart({"A": 1, "B": 2}).with_quantity("C", 3)

    assert [(line.sku, line.quantity) for line in result.lines] == [("A", 1), ("B", 2), ("C", 3)]


def test_with_quantity_changes_an_existing_line_in_place():
    result = cart({"A": 1, "B": 2, "C": 3}).with_quantity("B", 5)

    assert [(line.sku, line.quantity) for line in result.lines] == [("A", 1), ("B", 5), ("C", 3)]


def test_with_quantity_zero_removes_the_line_and_keeps_the_order_of_the_rest():
    result = cart({"A": 1, "B": 2, "C": 3}).with_quantity("B", 0)

    assert [(line.sku, line.quantity) for line in result.lines] == [("A", 1), ("C", 3)]


def test_with_quantity_zero_of_a_sku_not_in_the_cart_changes_nothing():
    result = cart({"A": 1}).with_quantity("Z", 0)

    assert [(line.sku, line.quantity) for line in result.lines] == [("A", 1)]


def test_with_quantity_leaves_the_original_cart_untouched():
    original = cart({"A": 1})

    original.with_quantity("A", 4)

    assert original.quantity_of("A") == 1


def test_quantity_of_a_sku_not_in_the_cart_is_zero():
    assert cart({"A": 2}).quantity_of("A") == 2
    assert cart({"A": 2}).quantity_of("B") == 0


# --- rounding ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("numerator", "denominator", "expected"), [
    (0, 10, 0),
    (14, 10, 1),
    (15, 10, 2),
    (25, 10, 3),
    (16, 10, 2),
    (85_000, 10_000, 9),
    (84_999, 10_000, 8),
    (30, 10, 3),
])
def test_round_half_up_rounds_halves_away_from_zero(numerator, denominator, expected):
    assert round_half_up(numerator, denominator) == expected


def _models(cls: type[BaseModel]):
    for sub in cls.__subclasses__():
        yield sub
        yield from _models(sub)


def test_every_model_of_the_app_builds_its_validator_on_first_use():
    """chalicelib.models.base.Model defers pydantic's build: the API function's import creates ~220 model
    classes, and a request builds only the few it touches (a cold start's import, README)."""
    import app  # noqa: F401 - every blueprint, so every model

    models = [m for m in _models(BaseModel) if m.__module__.startswith("chalicelib")]
    assert len(models) > 200
    assert [m.__qualname__ for m in models if not m.model_config.get("defer_build")] == []


def test_importing_the_api_function_builds_almost_no_validator():
    script = ("import app, pydantic\n"
              "def models(cls):\n"
              "    for sub in cls.__subclasses__():\n"
              "        yield sub\n"
              "        yield from models(sub)\n"
              "print(sorted(m.__qualname__ for m in models(pydantic.BaseModel)\n"
              "             if m.__module__.startswith('chalicelib') and m.__pydantic_complete__))")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    built = subprocess.run([sys.executable, "-c", script], cwd=root, capture_output=True, text=True, check=True)
    # The settings' shipping rates (read at import for CORS) and the paging base are all that is built.
    assert len(ast.literal_eval(built.stdout.strip().splitlines()[-1])) <= 5
