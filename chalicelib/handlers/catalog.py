"""Storefront catalogue routes."""

from typing import Annotated

from chalice import Blueprint
from pydantic import Field

from chalicelib.errors import ResourceMissing
from chalicelib.handlers.common import BlankIsAbsent, PageQuery, documented, page, parse_query
from chalicelib.models import Currency, Product
from chalicelib.responses import ProductPage
from chalicelib.services import catalog

bp = Blueprint(__name__)


class ProductsQuery(PageQuery):
    currency: Annotated[Currency | None, Field(description="Show each variant at its price in this currency; "
                                                           "variants not priced in it are left out."),
                        BlankIsAbsent] = None


@bp.route("/products", methods=["GET"])
@documented(ProductPage, query=ProductsQuery, summary="List active products",
            links={"get_product": {"product_id": "$response.body#/data/0/id"}})
def list_products():
    query = parse_query(ProductsQuery, bp.current_request)
    return page(*catalog.list_products(query.limit, query.cursor, query.currency))


@bp.route("/products/{product_id}", methods=["GET"])
@documented(Product, errors=[ResourceMissing], summary="Get a product")
def get_product(product_id):
    return catalog.get_product(product_id).model_dump(mode="json")
