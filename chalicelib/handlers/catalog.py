"""Storefront catalogue routes."""

from typing import Annotated, Literal

from chalice import Blueprint
from pydantic import Field

from chalicelib.errors import ResourceMissing
from chalicelib.handlers.common import BlankIsAbsent, PageQuery, documented, page, parse_query, sold_currency
from chalicelib.models import Currency, Product, Slug
from chalicelib.responses import ProductPage
from chalicelib.services import catalog, categories, collections

bp = Blueprint(__name__)


class ProductsQuery(PageQuery):
    category: Annotated[Slug | None, Field(description="Only products of this category (its slug)."),
                        BlankIsAbsent] = None
    collection: Annotated[Slug | None, Field(description="Only products of this collection (its slug)."),
                          BlankIsAbsent] = None
    sort: Annotated[Literal["newest", "price_asc", "price_desc", "title"] | None,
                    Field(description="The order (absent: oldest first, or newest first with `category`). "
                                      "Prices sort by the default currency's lowest variant price."),
                    BlankIsAbsent] = None
    currency: Annotated[Currency | None, Field(description="Show each variant at its price in this currency; "
                                                           "variants not priced in it are left out."),
                        BlankIsAbsent] = None


@bp.route("/products", methods=["GET"])
@documented(ProductPage, query=ProductsQuery, summary="List active products", errors=[ResourceMissing],
            links={"get_product": {"product_id": "$response.body#/data/0/id"}})
def list_products():
    query = parse_query(ProductsQuery, bp.current_request)
    sold_currency(query.currency)
    if query.collection:
        return page(*collections.list_products(query.collection, query.sort or "newest", query.limit, query.cursor,
                                               query.currency))
    if query.category or query.sort:
        return page(*categories.list_products(query.category, query.sort or "newest", query.limit, query.cursor,
                                              query.currency))
    return page(*catalog.list_products(query.limit, query.cursor, query.currency))


@bp.route("/products/{product_id}", methods=["GET"])
@documented(Product, errors=[ResourceMissing], summary="Get a product")
def get_product(product_id):
    return catalog.get_product(product_id).model_dump(mode="json")
