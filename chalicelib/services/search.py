"""Search and feeds as the storefront and the channels read them. The index is loaded from S3 once
per container and kept; its ETag is checked at most every SEARCH_REFRESH_SECONDS and the new object
loaded when it changed. The engine is behind `chalicelib.search.SearchIndex`."""

import logging
import threading
import time

from chalicelib import config
from chalicelib.errors import ResourceMissing, UpstreamUnavailable
from chalicelib.repository import catalogue_views
from chalicelib.search import SearchIndex, SearchQuery, SearchResult
from chalicelib.search.sqlite import IndexFormatError, SqliteIndex
from chalicelib.services.catalogue_views import CONTENT_TYPES, SEARCH_INDEX

log = logging.getLogger(__name__)
_lock = threading.Lock()
_loaded: dict = {"index": None, "etag": None, "checked": 0.0}
FEED_URL_SECONDS = 3600


def search(query: SearchQuery) -> SearchResult:
    """The hits of `query`. Raises UpstreamUnavailable while no index has been built yet."""
    return current_index().search(query)


def current_index() -> SearchIndex:
    with _lock:
        now = time.monotonic()
        index = _loaded["index"]
        if index is not None and now - _loaded["checked"] < config.settings().search_refresh_seconds:
            return index
        if index is None:
            found = catalogue_views.get_object(SEARCH_INDEX)  # a cold container: one GET, no HEAD first
        else:
            head = catalogue_views.head_object(SEARCH_INDEX)
            found = None if head is None or head[0] == _loaded["etag"] else catalogue_views.get_object(SEARCH_INDEX)
        if found is not None:
            try:
                _loaded.update(index=SqliteIndex(found[0]), etag=found[1])
            except IndexFormatError:  # built by the previous release: the schedule rebuilds it within a minute
                log.warning("search index in another format, waiting for its rebuild")
        _loaded["checked"] = now
        if _loaded["index"] is None:
            raise UpstreamUnavailable("The search index is being built; retry in a minute.")
        return _loaded["index"]


def forget() -> None:
    """Drop the loaded index (tests)."""
    with _lock:
        _loaded.update(index=None, etag=None, checked=0.0)


def feed(key: str) -> tuple[str, str]:
    """A feed as ("body", text) when small enough to answer inline, else ("redirect", presigned URL).
    Raises ResourceMissing before the first build."""
    head = catalogue_views.head_object(key)
    if head is None:
        raise ResourceMissing("The feed has not been built yet; it is within a minute of the first product.")
    if head[1] > config.settings().feed_inline_bytes:
        return "redirect", catalogue_views.object_url(key, FEED_URL_SECONDS)
    found = catalogue_views.get_object(key)
    if found is None:
        raise ResourceMissing("The feed has not been built yet.")
    return "body", found[0].decode()


def content_type(key: str) -> str:
    return CONTENT_TYPES[key]
