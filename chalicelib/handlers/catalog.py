"""Storefront catalogue routes."""

from chalice import Blueprint

from chalicelib.handlers.common import page, page_params
from chalicelib.services import catalog

bp = Blueprint(__name__)


@bp.route("/products", methods=["GET"])
def list_products():
    limit, cursor = page_params(bp.current_request)
    return page(*catalog.list_products(limit, cursor))


@bp.route("/products/{product_id}", methods=["GET"])
def get_product(product_id):
    return catalog.get_product(product_id).model_dump(mode="json")
