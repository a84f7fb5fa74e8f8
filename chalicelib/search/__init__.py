"""Search over the catalogue: derived data, rebuilt from the table, never the source of truth.

`SearchIndex` is the one interface the service talks to. `sqlite.SqliteIndex` implements it with an
SQLite FTS5 file (Python's stdlib) that the schedule builds into S3 and the API function loads; an
OpenSearch Serverless adapter would implement the same two methods (`search` here, `build` as a bulk
index of the same documents) and be chosen by configuration (`SEARCH_ENGINE`), with no change to
the routes or services. `documents.py` says what a product becomes in the index and the feeds.
"""

from dataclasses import dataclass, field
from typing import Literal, Protocol

Sort = Literal["relevance", "newest", "price_asc", "price_desc", "title"]
# Upper bounds (exclusive, minor units) of the price facet's bands; the last band has no upper bound.
PRICE_BANDS = (1000, 2500, 5000, 10000, 25000)


@dataclass(frozen=True)
class SearchQuery:
    q: str = ""
    currency: str = "EUR"
    category: str | None = None
    price_min: int | None = None
    price_max: int | None = None
    in_stock: bool | None = None
    sort: Sort | None = None  # relevance when q is given, else newest
    limit: int = 20
    offset: int = 0


@dataclass
class SearchResult:
    products: list[dict]  # the stored Product JSON of each hit, in order
    total: int
    facets: dict = field(default_factory=dict)  # {category: [...], price: [...], in_stock: {...}}
    next_offset: int | None = None


class SearchIndex(Protocol):
    """What the search service needs of an engine."""

    def search(self, query: SearchQuery) -> SearchResult:
        """Hits for `query` with facets over what matched (each facet ignoring its own filter)."""
        ...
