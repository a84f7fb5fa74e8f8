"""Keeping the catalogue's derived views (search index, Google and Meta feeds) current: the relay
marks them stale when a change touches what they show, and a one-minute schedule rebuilds them from
the table into S3 when they are stale, so an edit is searchable, and in the feeds, within about a
minute (plus the API function's ETag check, SEARCH_REFRESH_SECONDS)."""

import logging
import time

from chalicelib import config, feeds
from chalicelib.repository import catalogue_views
from chalicelib.search import sqlite
from chalicelib.search.documents import document

log = logging.getLogger(__name__)
SEARCH_INDEX = "search/catalogue.sqlite"
GOOGLE_FEED = "feeds/google.xml"
META_FEED = "feeds/meta.csv"
CONTENT_TYPES = {GOOGLE_FEED: "application/xml; charset=utf-8", META_FEED: "text/csv; charset=utf-8"}


def note_changes(records: list[dict]) -> bool:
    """Mark the views stale when any stream record changes what they show (one write per batch).
    Safe to repeat: a redelivered batch only causes one more rebuild."""
    if any(catalogue_views.changes_views(record) for record in records):
        catalogue_views.mark_stale()
        return True
    return False


def refresh(force: bool = False) -> dict:
    """Rebuild every view when stale (or `force`). Idempotent: the views are a function of the table;
    two rebuilds racing write the same objects, and the later version wins the marker. An index built
by an older version of the code (another `sqlite.FORMAT`) is rebuilt at the next run."""
    version, built, index_format = catalogue_views.staleness()
    if not force and built is not None and built >= version and index_format == sqlite.FORMAT:
        return {"rebuilt": False}
    started = time.perf_counter()
    documents = [document(product, skus) for product, skus in catalogue_views.each_product()]
    read = time.perf_counter()
    index = sqlite.build(documents)
    settings = config.settings()
    items = feeds.items(documents, settings.default_currency, settings.shop_name, settings.storefront_url)
    catalogue_views.put_object(SEARCH_INDEX, index, "application/vnd.sqlite3")
    catalogue_views.put_object(GOOGLE_FEED, feeds.google_xml(items, settings.shop_name, settings.storefront_url)
                               .encode(), CONTENT_TYPES[GOOGLE_FEED])
    catalogue_views.put_object(META_FEED, feeds.meta_csv(items).encode(), CONTENT_TYPES[META_FEED])
    summary = {"products": len(documents), "feed_items": len(items), "index_bytes": len(index),
               "read_ms": round((read - started) * 1000), "build_ms": round((time.perf_counter() - read) * 1000)}
    catalogue_views.mark_built(version, summary, sqlite.FORMAT)
    log.info("catalogue views rebuilt: %s", summary)
    return {"rebuilt": True, **summary}
