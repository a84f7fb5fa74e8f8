"""Storefront recommendations: products bought together."""

from chalice import Blueprint

from chalicelib.errors import ResourceMissing
from chalicelib.handlers.common import documented
from chalicelib.responses import Recommendations
from chalicelib.services import recommendations

bp = Blueprint(__name__)


@bp.route("/products/{product_id}/recommendations", methods=["GET"])
@documented(Recommendations, errors=[ResourceMissing], summary="Products bought together with a product")
def product_recommendations(product_id):
    return {"data": [product.model_dump(mode="json") for product in recommendations.recommend(product_id)]}
