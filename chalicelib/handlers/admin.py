"""Admin routes for the shop: catalogue and inventory (orders, discounts and reports join later)."""

from typing import Annotated

from chalice import Blueprint
from pydantic import Field, StringConstraints, field_validator, model_validator

from chalicelib.errors import Conflict, ResourceExists, ResourceMissing, SkuConflict
from chalicelib.handlers.common import admin_body, created, documented
from chalicelib.models import MAX_SHARDS, Currency, Money, Product, Request, Sku, Slug, StockLevel, Text
from chalicelib.services import catalog

bp = Blueprint(__name__)

Stock = Annotated[int, Field(ge=0, le=10_000_000)]


class VariantIn(Request):
    """A variant's prices: `price` in `currency` (its default), `prices` per currency, or both. With
    `prices` alone the default currency is the shop's DEFAULT_CURRENCY when priced, else the first. When a
    product is replaced, `price` + `currency` alone sets that currency's price and keeps the others; `prices`
    replaces them all."""

    sku: Sku
    title: Annotated[str, Field(max_length=200)] = ""
    price: Money | None = None
    currency: Currency | None = None
    prices: Annotated[dict[Currency, Money], Field(min_length=1, max_length=20)] | None = None
    on_hand: Stock | None = Field(None, description="Units in stock; required except for a gift card, which is "
                                                    "never stocked (0 when absent).")
    gift_card: bool = Field(False, description="A gift card worth its price (a denomination): each unit bought "
                                               "issues one card once the order is paid. It needs no stock: it "
                                               "is never out of stock, reserves nothing and is not shipped.")

    @model_validator(mode="after")
    def _priced(self) -> "VariantIn":
        if self.on_hand is None:
            if not self.gift_card:
                raise ValueError("give on_hand (only a gift card needs no stock)")
            self.on_hand = 0
        if (self.price is None) != (self.currency is None) and not (self.prices and self.price is None):
            raise ValueError("give price with currency, or prices per currency")
        if self.price is None and not self.prices:
            raise ValueError("give price with currency, or prices per currency")
        if self.prices and self.currency and self.price is None:
            if self.currency not in self.prices:
                raise ValueError(f"prices has no price in currency {self.currency}")
            self.price = self.prices[self.currency]
        if self.prices and self.price is not None and self.prices.get(self.currency, self.price) != self.price:
            raise ValueError(f"price and prices.{self.currency} differ")
        return self


class ImageIn(Request):
    id: Annotated[str, Field(max_length=64, description="An image added by POST /admin/products/{id}/images.")]
    alt: Annotated[str, Field(max_length=300)] | None = None


class ProductIn(Request):
    title: Text
    description: Annotated[str, Field(max_length=5000)] = ""
    active: bool = True
    variants: Annotated[list[VariantIn], Field(min_length=1, max_length=50)]
    categories: Annotated[list[Slug], Field(max_length=5, description=(
        "Category slugs (at most 5); on a replace, kept when absent."))] | None = None
    tags: Annotated[list[Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]],
                    Field(max_length=20, description="On a replace, kept when absent.")] | None = None
    images: Annotated[list[ImageIn], Field(max_length=20, description=(
        "The product's images in this order, with their alt text (kept when absent; an image left out is "
        "dropped)."))] | None = None

    @field_validator("variants")
    @classmethod
    def _unique_skus(cls, variants: list[VariantIn]) -> list[VariantIn]:
        skus = [v.sku for v in variants]
        if len(set(skus)) != len(skus):
            raise ValueError("each SKU may appear only once")
        return variants


class InventoryIn(Request):
    on_hand: Stock
    low_stock_threshold: Stock | None = None
    shards: Annotated[int, Field(ge=1, le=MAX_SHARDS, description=(
        "Split the SKU's stock over this many items (kept when absent; 1 = one item). For a flash sale: "
        "checkouts then reserve from a shard chosen at random instead of all waiting for one item. "
        "Changing it moves available units between the items, never makes or loses one."))] | None = None


PRODUCT = {"product_id": "$response.body#/id"}


def _product_args(body: ProductIn) -> dict:
    return {"title": body.title, "description": body.description, "active": body.active,
            "variants": [v.model_dump() for v in body.variants],
            "categories": None if body.categories is None else list(dict.fromkeys(body.categories)),
            "tags": None if body.tags is None else list(dict.fromkeys(body.tags)),
            "images": [i.model_dump() for i in body.images] if body.images is not None else None}


@bp.route("/admin/products", methods=["POST"])
@documented(Product, status=201, request=ProductIn, summary="Create a product",
            errors=[ResourceExists, SkuConflict],
            links={"get_product": PRODUCT, "update_product": PRODUCT, "product_recommendations": PRODUCT,
                   "set_inventory": {"sku": "$response.body#/variants/0/sku"}})
def create_product():
    body = admin_body(ProductIn, bp.current_request)
    return created(catalog.create_product(**_product_args(body)))


@bp.route("/admin/products/{product_id}", methods=["PUT"])
@documented(Product, request=ProductIn, summary="Replace a product", errors=[ResourceMissing, SkuConflict])
def update_product(product_id):
    body = admin_body(ProductIn, bp.current_request)
    return catalog.update_product(product_id, **_product_args(body)).model_dump(mode="json")


@bp.route("/admin/inventory/{sku}", methods=["PUT"])
@documented(StockLevel, request=InventoryIn, summary="Set the counted stock of a SKU and its shard count",
            errors=[ResourceMissing, Conflict])
def set_inventory(sku):
    body = admin_body(InventoryIn, bp.current_request)
    return catalog.set_inventory(sku, body.on_hand, body.low_stock_threshold, body.shards).model_dump(mode="json")
