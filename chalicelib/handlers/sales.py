"""Admin routes for scheduled sales and product images."""

from typing import Annotated, Literal

from chalice import Blueprint
from pydantic import Field, field_validator

from chalicelib.errors import InvalidRequest, ResourceMissing
from chalicelib.handlers.common import PageQuery, admin_body, created, documented, page, parse_query, require_admin
from chalicelib.models import Request
from chalicelib.models.base import Model
from chalicelib.models.sales import Sale, SaleTerms
from chalicelib.responses import Page
from chalicelib.services import images, sales

bp = Blueprint(__name__)


class SaleIn(SaleTerms, Request):
    """The terms, as a request body: no unknown field, no SKU twice (starting the sale lowers each SKU's price
    in one transaction, which cannot touch an item twice)."""

    @field_validator("skus")
    @classmethod
    def _each_once(cls, skus: list[str] | None) -> list[str] | None:
        if skus is not None and len(set(skus)) != len(skus):
            raise ValueError("a SKU is listed twice")
        return skus


class SalePage(Page[Sale]):
    """A page of sales, newest first."""


class ImageUploadIn(Request):
    content_type: Literal["image/jpeg", "image/png", "image/webp", "image/gif"] = "image/jpeg"
    alt: Annotated[str, Field(max_length=300)] = ""


class ImageUpload(Model):
    """Where to PUT the image's bytes (with the same Content-Type, within `expires_in` seconds); the image is
    already last in the product's `images`."""

    image_id: str
    upload_url: str
    url: str
    expires_in: int


@bp.route("/admin/sales", methods=["POST"])
@documented(Sale, status=201, request=SaleIn, errors=[InvalidRequest],
            summary="Schedule a sale (prices change at its start and back at its end by themselves)")
def create_sale():
    return created(sales.create(admin_body(SaleIn, bp.current_request)))


@bp.route("/admin/sales", methods=["GET"])
@documented(SalePage, query=PageQuery, summary="List sales, newest first")
def list_sales():
    require_admin(bp.current_request)
    query = parse_query(PageQuery, bp.current_request)
    return page(*sales.list_sales(query.limit, query.cursor))


@bp.route("/admin/products/{product_id}/images", methods=["POST"])
@documented(ImageUpload, status=201, request=ImageUploadIn, errors=[ResourceMissing],
            summary="Add an image to a product: a presigned S3 URL to upload it to")
def add_product_image(product_id):
    body = admin_body(ImageUploadIn, bp.current_request)
    return created(ImageUpload.model_validate(images.add(product_id, body.content_type, body.alt)))
