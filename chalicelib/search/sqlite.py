"""The catalogue's search index as one SQLite FTS5 database (stdlib `sqlite3`), built in memory
(`sqlite_build.build`), stored as bytes (S3) and loaded with `Connection.deserialize` (no temporary
file).

A search with words writes its full-text hits once, each with its listing row (price, band, stock,
category set: one lookup per hit) and its bm25 rank only when sorting by relevance, to a temporary
table; the page, the count and the facets then read that table alone: the count and the price and
stock facets in one GROUP BY, the category facet in another (by category set, expanded here).
Browsing without words reads the listing through its indexes, and keeps those tallies per filter.
Prefix terms expand to the vocabulary's most frequent words (type-ahead through stemming), and a word
that matches nothing is replaced by the vocabulary's words one edit away (typos).
"""

# The SQL below is composed only of this module's constant fragments; every value is a bound parameter.
# ruff: noqa: S608

import base64
import json
import sqlite3
import threading
from collections import Counter, OrderedDict

from chalicelib.search import PRICE_BANDS, SearchQuery, SearchResult
from chalicelib.search.sqlite_build import FORMAT, TYPO_MIN_LENGTH, build
from chalicelib.search.stemming import deletes, french_stem, within_one_edit, words

__all__ = ["FORMAT", "IndexFormatError", "SqliteIndex", "build", "decode_cursor", "encode_cursor"]

PREFIX_EXPANSIONS = 20   # vocabulary words a prefix stands for (the most frequent)
PREFIX_MIN_LENGTH = 2    # one letter is not expanded: it would stand for most of the catalogue
MAX_TERMS = 8
BROWSE_CACHE = 512       # tallies kept per loaded index (browsing without words)
IN_CATEGORY = "l.category_set IN (SELECT id FROM category_set_members WHERE category = ?)"
# Integers only (the sorts by date and title as the listing's ranks): copying text per hit costs ~25 %.
HITS = ("CREATE TEMP TABLE hits (rowid INTEGER PRIMARY KEY, rank REAL, price INTEGER, band INTEGER, "
        "in_stock INTEGER, category_set INTEGER, created_rank INTEGER, title_rank INTEGER)")


class IndexFormatError(ValueError):
    """The bytes are an index of another format (built by another version of this code)."""


class SqliteIndex:
    """A loaded index (read-only use; one per container, reused across requests)."""

    def __init__(self, data: bytes):
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        self.db.deserialize(data)
        found = self.db.execute("PRAGMA user_version").fetchone()[0]
        if found != FORMAT:
            raise IndexFormatError(f"index format {found}, expected {FORMAT}")
        self.size = len(data)
        self.category_sets = {i: json.loads(c) for i, c in self.db.execute("SELECT id, categories FROM category_sets")}
        # One search at a time per loaded index: its hits are written once to a temporary table.
        self._lock = threading.Lock()
        self.db.execute(HITS)
        self._browse: OrderedDict[tuple, list] = OrderedDict()
        for (currency,) in self.db.execute("SELECT DISTINCT currency FROM listing").fetchall():
            self._tallies(SearchQuery(currency=currency), False)  # the unfiltered browsing facets, now

    def search(self, query: SearchQuery) -> SearchResult:
        with self._lock:
            return self._search(query)

    def _search(self, query: SearchQuery) -> SearchResult:
        match = self._match_expression(query.q)
        if query.q.strip() and match is None:
            return SearchResult([], 0, _empty_facets(), None)
        matched = match is not None
        sort = query.sort or ("relevance" if matched else "newest")
        if matched:
            rank = "bm25(fts, 10.0, 1.0, 5.0, 1.0)" if sort == "relevance" else "0"
            self.db.execute("DELETE FROM temp.hits")
            self.db.execute(
                f"INSERT INTO temp.hits SELECT fts.rowid, {rank}, l.price, l.band, l.in_stock, l.category_set, "
                "l.created_rank, l.title_rank FROM fts CROSS JOIN listing l "
                "ON l.rowid = fts.rowid AND l.currency = ? WHERE fts MATCH ?", (query.currency, match))
        where, params = _filters(query, matched)
        rows = self.db.execute(
            f"SELECT p.json FROM (SELECT l.rowid AS rowid FROM {_source(matched)} WHERE {where} "
            f"ORDER BY {_order(sort, matched)} LIMIT ? OFFSET ?) AS page JOIN products p ON p.rowid = page.rowid",
            [*params, query.limit + 1, query.offset]).fetchall()
        more = len(rows) > query.limit
        products = [json.loads(r[0]) for r in rows[: query.limit]]
        total, facets = self._tallies(query, matched)
        return SearchResult(products, total, facets, query.offset + query.limit if more else None)

    # --- the match expression ------------------------------------------------------------------

    def _match_expression(self, q: str) -> str | None:
        """FTS5 syntax for `q`: every word must match (as itself, its French stem, or, when it matches
        nothing, a vocabulary word one edit away); the last word also as a prefix. None when a word
        has no match at all."""
        terms = words(q)[:MAX_TERMS]
        if not terms:
            return None
        parts = []
        for position, term in enumerate(terms):
            options = {term, french_stem(term)}
            if position == len(terms) - 1 and q.rstrip() == q and len(term) >= PREFIX_MIN_LENGTH:  # being typed
                options |= self._completions(term)
            if not self._matches(options):
                options = self._corrections(term)
                if not options:
                    return None
            parts.append("(" + " OR ".join(_quoted(o) for o in sorted(options)) + ")")
        return " AND ".join(parts)

    def _matches(self, options: set[str]) -> bool:
        expression = " OR ".join(_quoted(o) for o in options)
        return self.db.execute("SELECT 1 FROM fts WHERE fts MATCH ? LIMIT 1", (expression,)).fetchone() is not None

    def _completions(self, prefix: str) -> set[str]:
        rows = self.db.execute(
            "SELECT term FROM vocab WHERE term > ? AND term < ? ORDER BY docs DESC LIMIT ?",
            (prefix, prefix + "\U0010ffff", PREFIX_EXPANSIONS)).fetchall()
        return {r[0] for r in rows}

    def _corrections(self, term: str) -> set[str]:
        if len(term) < TYPO_MIN_LENGTH or not term.isalpha():
            return set()
        variants = sorted(deletes(term) | {term})
        marks = ",".join("?" * len(variants))
        rows = self.db.execute(
            f"SELECT DISTINCT term FROM vocab_deletes WHERE variant IN ({marks}) "
            f"UNION SELECT term FROM vocab WHERE term IN ({marks})", variants + variants).fetchall()
        return {r[0] for r in rows if within_one_edit(term, r[0])}

    # --- count and facets ----------------------------------------------------------------------

    def _tallies(self, query: SearchQuery, matched: bool) -> tuple[int, dict]:
        """The total and the facets, each facet ignoring its own filter, from two GROUP BYs: one by
        (band, in stock) over the category's rows, counting those within the price filter too, gives
        the total and the price and stock facets; one by category set gives the category facet."""
        total, bands, stock = 0, Counter(), Counter()
        for band, stocked, n, priced in self._by_band(query, matched):
            if query.in_stock is None or stocked == int(query.in_stock):
                bands[band] += n
                total += priced
            stock[stocked] += priced
        lowers = (0, *PRICE_BANDS)
        price = [{"min": lowers[i], "max": PRICE_BANDS[i] if i < len(PRICE_BANDS) else None, "count": bands[i]}
                 for i in range(len(lowers)) if bands[i]]
        categories: Counter = Counter()
        for category_set, n in self._by_category_set(query, matched):
            for category in self.category_sets.get(category_set, ()):
                categories[category] += n
        ranked = sorted(categories.items(), key=lambda pair: (-pair[1], pair[0]))[:50]
        return total, {"category": [{"value": c, "count": n} for c, n in ranked], "price": price,
                       "in_stock": {"true": stock[1], "false": stock[0]}}

    def _by_band(self, query: SearchQuery, matched: bool) -> list:
        priced, params = _price_filter(query)
        clauses, currency = _currency(query, matched)
        params += currency
        if query.category:
            clauses.append(IN_CATEGORY)
            params.append(query.category)
        source = _source(matched) + ("" if matched else
                                     " INDEXED BY " + ("listing_facets" if query.category else "listing_by_band"))
        sql = (f"SELECT l.band, l.in_stock, count(*), sum({priced or '1'}) FROM {source} "
               f"WHERE {' AND '.join(clauses) or '1'} GROUP BY l.band, l.in_stock")
        return self._kept(matched, ("band", query.currency, query.category, query.price_min, query.price_max),
                          sql, params)

    def _by_category_set(self, query: SearchQuery, matched: bool) -> list:
        clauses, params = _currency(query, matched)
        priced, price_params = _price_filter(query)
        if priced:
            clauses.append(priced)
            params += price_params
        if query.in_stock is not None:
            clauses.append("l.in_stock = ?")
            params.append(int(query.in_stock))
        source = _source(matched) + ("" if matched else " INDEXED BY listing_facets")
        sql = (f"SELECT l.category_set, count(*) FROM {source} WHERE {' AND '.join(clauses) or '1'} "
               "GROUP BY l.category_set")
        return self._kept(matched, ("sets", query.currency, query.price_min, query.price_max, query.in_stock),
                          sql, params)

    def _kept(self, matched: bool, key: tuple, sql: str, params: list) -> list:
        """The rows of `sql`; without words they depend only on the filters in `key`, and are kept."""
        if matched:
            return self.db.execute(sql, params).fetchall()
        if key not in self._browse:
            self._browse[key] = self.db.execute(sql, params).fetchall()
            if len(self._browse) > BROWSE_CACHE:
                self._browse.popitem(last=False)
        self._browse.move_to_end(key)
        return self._browse[key]


def _price_filter(query: SearchQuery) -> tuple[str, list]:
    clauses, params = [], []
    if query.price_min is not None:
        clauses.append("l.price >= ?")
        params.append(query.price_min)
    if query.price_max is not None:
        clauses.append("l.price <= ?")
        params.append(query.price_max)
    return ("(" + " AND ".join(clauses) + ")" if clauses else ""), params


def _currency(query: SearchQuery, matched: bool) -> tuple[list[str], list]:
    """The hits are of the query's currency already; the listing has a row per currency."""
    return ([], []) if matched else (["l.currency = ?"], [query.currency])


def _filters(query: SearchQuery, matched: bool) -> tuple[str, list]:
    clauses, params = _currency(query, matched)
    if query.category:
        clauses.append(IN_CATEGORY)
        params.append(query.category)
    priced, price_params = _price_filter(query)
    if priced:
        clauses.append(priced)
        params += price_params
    if query.in_stock is not None:
        clauses.append("l.in_stock = ?")
        params.append(int(query.in_stock))
    return " AND ".join(clauses) or "1", params


def _source(matched: bool) -> str:
    """The FROM clause: the search's hits (with their listing columns), or the whole listing."""
    return "temp.hits AS l" if matched else "listing AS l"


def _order(sort: str, matched: bool) -> str:
    return {
        "relevance": "l.rank, l.rowid" if matched else "l.created_at DESC, l.rowid DESC",
        "newest": "l.created_rank DESC" if matched else "l.created_at DESC, l.rowid DESC",
        "price_asc": "l.price, l.rowid",
        "price_desc": "l.price DESC, l.rowid",
        "title": "l.title_rank" if matched else "l.title, l.rowid",
    }[sort]


def _quoted(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def _empty_facets() -> dict:
    return {"category": [], "price": [], "in_stock": {"true": 0, "false": 0}}


def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int | None:
    """The offset a cursor stands for, or None when it is not one of ours."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    if not text.startswith("o:") or not text[2:].isdigit() or len(text) > 12:
        return None
    return int(text[2:])
