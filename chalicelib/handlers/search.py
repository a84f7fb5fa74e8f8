"""Storefront search and the channel feeds (derived views of the catalogue, rebuilt into S3 by the
`refresh_catalogue_views` schedule; chalicelib/services/catalogue_views.py)."""

from typing import Annotated, Literal

from chalice import Blueprint, Response
from pydantic import Field

from chalicelib import config
from chalicelib.errors import InvalidRequest, ResourceMissing, UpstreamUnavailable
from chalicelib.handlers.common import documented, parse_query, sold_currency
from chalicelib.models import MAX_MONEY, Product
from chalicelib.models.base import Model
from chalicelib.search import SearchQuery
from chalicelib.search.sqlite import decode_cursor, encode_cursor
from chalicelib.services import search
from chalicelib.services.catalogue_views import GOOGLE_FEED, META_FEED

bp = Blueprint(__name__)
MAX_OFFSET = 10_000  # deeper than any shopper pages; a bound keeps a crafted cursor cheap


class SearchParams(Model):
    q: Annotated[str, Field(max_length=200, description="Words to find in titles, descriptions, SKUs, tags "
                                                        "and categories; the last word (2 letters or more) also "
                                                        "as a prefix.")] = ""
    category: Annotated[str, Field(max_length=100, description="A category slug.")] | None = None
    price_min: Annotated[int, Field(ge=0, le=MAX_MONEY, description="Lowest price, minor units.")] | None = None
    price_max: Annotated[int, Field(ge=0, le=MAX_MONEY, description="Highest price, minor units.")] | None = None
    in_stock: Annotated[bool, Field(description="Only products with (true) or without (false) stock.")] | None = None
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$",
                                   description="Prices and filters in this currency; default DEFAULT_CURRENCY.")
                        ] | None = None
    sort: Annotated[Literal["relevance", "newest", "price_asc", "price_desc", "title"],
                    Field(description="Default: relevance with `q`, else newest.")] | None = None
    limit: Annotated[int, Field(ge=1, le=100, description="Items per page.")] = 20
    cursor: Annotated[str, Field(max_length=64, description="`next_cursor` of the previous page.")] | None = None


class CategoryCount(Model):
    value: str
    count: int


class PriceBand(Model):
    min: int = Field(description="Lowest price of the band (minor units).")
    max: int | None = Field(description="Price the band stops below; null for the last band.")
    count: int


class Facets(Model):
    category: list[CategoryCount]
    price: list[PriceBand]
    in_stock: dict[Literal["true", "false"], int]


class SearchPage(Model):
    """Products matching the query and filters; each facet counts what matches without its own filter."""

    data: list[Product]
    facets: Facets
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


@bp.route("/search", methods=["GET"])
@documented(SearchPage, query=SearchParams, errors=[UpstreamUnavailable], summary="Search the catalogue")
def search_products():
    """Full text with English and French stemming, one-letter typos forgiven in words of 4 letters or
    more, the last word matched as a prefix (type-ahead). Reflects the catalogue within about a minute."""
    params = parse_query(SearchParams, bp.current_request)
    sold_currency(params.currency)
    offset = 0
    if params.cursor is not None:
        offset = decode_cursor(params.cursor)
        if offset is None or offset > MAX_OFFSET:
            raise InvalidRequest("The cursor is not valid for this search.", param="cursor")
    if params.price_min is not None and params.price_max is not None and params.price_min > params.price_max:
        raise InvalidRequest("price_min is above price_max.", param="price_min")
    result = search.search(SearchQuery(
        q=params.q, currency=params.currency or config.settings().default_currency, category=params.category,
        price_min=params.price_min, price_max=params.price_max, in_stock=params.in_stock, sort=params.sort,
        limit=params.limit, offset=offset))
    next_cursor = encode_cursor(result.next_offset) if result.next_offset is not None else None
    return {"data": result.products, "facets": result.facets, "next_cursor": next_cursor}


def _feed(key: str) -> Response:
    kind, value = search.feed(key)
    if kind == "redirect":
        return Response(body="", status_code=302, headers={"Location": value})
    return Response(body=value, status_code=200,
                    headers={"Content-Type": search.content_type(key), "Cache-Control": "public, max-age=300"})


@bp.route("/feeds/google.xml", methods=["GET"])
@documented({"type": "string", "description": "RSS 2.0 with the g: namespace (Google Merchant Center)."},
            status=(200, 302), media_type="application/xml", errors=[ResourceMissing],
            summary="Google Merchant Center product feed")
def google_feed():
    """One item per variant priced in DEFAULT_CURRENCY of every active product with an image; rebuilt
    within a minute of a catalogue change. Large feeds answer 302 to a presigned URL."""
    return _feed(GOOGLE_FEED)


@bp.route("/feeds/meta.csv", methods=["GET"])
@documented({"type": "string", "description": "Meta catalogue CSV (header row, one row per variant)."},
            status=(200, 302), media_type="text/csv", errors=[ResourceMissing],
            summary="Meta catalogue product feed")
def meta_feed():
    """The same items as the Google feed, in Meta's CSV columns."""
    return _feed(META_FEED)
