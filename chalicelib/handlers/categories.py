"""Category and collection routes: the storefront's tree, breadcrumbs and collections, the shop's
categories, collections and list of every product."""

from typing import Annotated

from chalice import Blueprint
from pydantic import BeforeValidator, Field, field_validator, model_validator

from chalicelib.errors import InvalidRequest, ResourceExists, ResourceMissing, not_found
from chalicelib.handlers.common import (
    BlankIsAbsent,
    PageQuery,
    admin_body,
    created,
    documented,
    page,
    parse_query,
    require_admin,
)
from chalicelib.models import Category, Collection, CollectionRule, Request, Slug, Text
from chalicelib.models.base import Model
from chalicelib.responses import ProductPage
from chalicelib.services import categories, collections

bp = Blueprint(__name__)


class CategoryIn(Request):
    slug: Slug
    title: Text
    parent: Slug | None = Field(None, description="The parent category's slug; absent for a root category.")


class CollectionIn(Request):
    """A hand-picked collection (`product_ids`, in order) or a rule one (`rule`): exactly one of them."""

    slug: Slug
    title: Text
    product_ids: Annotated[list[Annotated[str, Field(max_length=64)]],
                           Field(min_length=1, max_length=100)] | None = None
    rule: CollectionRule | None = None

    @field_validator("product_ids")
    @classmethod
    def _each_once(cls, product_ids: list[str] | None) -> list[str] | None:
        if product_ids is not None and len(set(product_ids)) != len(product_ids):
            raise ValueError("a product is listed twice")
        return product_ids

    @model_validator(mode="after")
    def _one_kind(self) -> "CollectionIn":
        if (self.product_ids is None) == (self.rule is None):
            raise ValueError("give product_ids or rule, not both")
        return self


class CategoryTree(Model):
    """The root categories, each with its `children`."""

    data: list[Category]


class Breadcrumbs(Model):
    """The category and its ancestors, from the root down to it."""

    data: list[Category]


def _flag(value):
    return {"true": True, "false": False}.get(value, value)


class AdminProductsQuery(PageQuery):
    active: Annotated[bool | None, Field(description="Only active (`true`) or inactive (`false`) products."),
                      BlankIsAbsent, BeforeValidator(_flag)] = None


@bp.route("/categories", methods=["GET"])
@documented(CategoryTree, summary="The category tree")
def category_tree():
    return {"data": [node.model_dump(mode="json") for node in categories.tree()]}


@bp.route("/categories/{slug}/breadcrumbs", methods=["GET"])
@documented(Breadcrumbs, errors=[ResourceMissing], summary="A category's breadcrumbs, root first")
def category_breadcrumbs(slug):
    path = categories.breadcrumbs(slug)
    if not path:
        raise not_found("category")
    return {"data": [node.model_dump(mode="json") for node in path]}


@bp.route("/admin/categories", methods=["POST"])
@documented(Category, status=201, request=CategoryIn, errors=[ResourceExists, InvalidRequest],
            summary="Create a category")
def create_category():
    body = admin_body(CategoryIn, bp.current_request)
    return created(categories.create_category(body.slug, body.title, body.parent))


@bp.route("/admin/products", methods=["GET"])
@documented(ProductPage, query=AdminProductsQuery, summary="List all products, newest first")
def admin_list_products():
    request = bp.current_request
    require_admin(request)
    query = parse_query(AdminProductsQuery, request)
    return page(*categories.list_all(query.active, query.limit, query.cursor))



@bp.route("/collections/{slug}", methods=["GET"])
@documented(Collection, errors=[ResourceMissing], summary="Get a collection (its products: GET /products?collection=)")
def get_collection(slug):
    return collections.get(slug).model_dump(mode="json")


@bp.route("/admin/collections", methods=["POST"])
@documented(Collection, status=201, request=CollectionIn, errors=[ResourceExists, InvalidRequest],
            summary="Create a collection", links={"get_collection": {"slug": "$response.body#/slug"}})
def create_collection():
    body = admin_body(CollectionIn, bp.current_request)
    return created(collections.create(body.slug, body.title, body.product_ids, body.rule))
