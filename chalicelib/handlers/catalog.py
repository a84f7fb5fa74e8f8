"""Storefront catalogue routes."""

from chalice import Blueprint

from chalicelib.errors import ResourceMissing
from chalicelib.handlers.common import PageQuery, documented, page, parse_query
from chalicelib.models import Product
from chalicelib.responses import ProductPage
from chalicelib.services import catalog

bp = Blueprint(__name__)


@bp.route("/products", methods=["GET"])
@documented(ProductPage, query=PageQuery, summary="List active products",
            links={"get_product": {"product_id": "$response.body#/data/0/id"}})
def list_products():
    query = parse_query(PageQuery, bp.current_request)
    return page(*catalog.list_products(query.limit, query.cursor))


@bp.route("/products/{product_id}", methods=["GET"])
@documented(Product, errors=[ResourceMissing], summary="Get a product")
def get_product(product_id):
    return catalog.get_product(product_id).model_dump(mode="json")
