"""The catalogue's search index as one SQLite FTS5 database (stdlib `sqlite3`), built in memory,
stored as bytes (S3) and loaded with `Connection.deserialize` (no temporary file).

Tables: `fts` (title, body, codes, french: porter stemming; bm25 weights 10, 1, 5, 1), `products`
(the stored Product JSON, read for the page only), `listing` (one narrow row per product and currency:
lowest price, in stock, created, title: what filters, facets and sorts read), `categories`, and
`vocab` (every word with its document count) with `vocab_deletes` (each word with one letter
removed): prefix terms expand to the vocabulary's words (type-ahead through stemming), and a word
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
from chalicelib.search.documents import in_stock, lowest_price
from chalicelib.search.stemming import deletes, french_stem, normalise, within_one_edit, words

SCHEMA = """
CREATE VIRTUAL TABLE fts USING fts5(title, body, codes, french, tokenize = 'porter unicode61 remove_diacritics 2');
CREATE TABLE products (rowid INTEGER PRIMARY KEY, id TEXT, json TEXT);
CREATE TABLE listing (rowid INTEGER, currency TEXT, price INTEGER, in_stock INTEGER, created_at TEXT, title TEXT);
CREATE TABLE categories (rowid INTEGER, category TEXT);
CREATE TABLE vocab (term TEXT PRIMARY KEY, docs INTEGER) WITHOUT ROWID;
CREATE TABLE vocab_deletes (variant TEXT, term TEXT);
"""
INDEXES = """
CREATE INDEX listing_by_price ON listing (currency, price, rowid, in_stock);
CREATE INDEX listing_by_created ON listing (currency, created_at, rowid, price, in_stock);
CREATE INDEX listing_by_title ON listing (currency, title, rowid, price, in_stock);
CREATE UNIQUE INDEX listing_by_row ON listing (rowid, currency, price, in_stock);
CREATE INDEX categories_by_name ON categories (category, rowid);
CREATE INDEX categories_by_row ON categories (rowid, category);
CREATE INDEX vocab_deletes_by_variant ON vocab_deletes (variant);
"""
PREFIX_EXPANSIONS = 20   # vocabulary words a prefix stands for (the most frequent)
TYPO_MIN_LENGTH = 4      # shorter words are too ambiguous to correct
MAX_TERMS = 8
BROWSE_CACHE = 512      # facet answers kept per loaded index (browsing without words)


def build(documents: list[dict]) -> bytes:
    """The index database of `documents` (documents.document), as bytes."""
    db = sqlite3.connect(":memory:")
    db.executescript(SCHEMA)
    vocabulary: Counter = Counter()
    for rowid, doc in enumerate(documents, start=1):
        text = f"{doc['title']} {doc['description']} {' '.join(doc['tags'])} {' '.join(doc['categories'])}"
        found = set(words(text))
        vocabulary.update(found)
        french = " ".join(sorted({french_stem(w) for w in found} - found))
        codes = " ".join([v["sku"] for v in doc["variants"]] + doc["tags"] + doc["categories"])
        db.execute("INSERT INTO fts (rowid, title, body, codes, french) VALUES (?, ?, ?, ?, ?)",
                   (rowid, doc["title"], doc["description"], codes, french))
        db.execute("INSERT INTO products VALUES (?, ?, ?)",
                   (rowid, doc["id"], json.dumps(doc["product"], separators=(",", ":"))))
        currencies = {c for v in doc["variants"] for c in v["prices"]}
        stocked, title = int(in_stock(doc)), normalise(doc["title"])
        db.executemany("INSERT INTO listing VALUES (?, ?, ?, ?, ?, ?)",
                       [(rowid, c, lowest_price(doc, c), stocked, doc["created_at"], title)
                        for c in sorted(currencies)])
        db.executemany("INSERT INTO categories VALUES (?, ?)", [(rowid, c) for c in set(doc["categories"])])
    db.executemany("INSERT INTO vocab VALUES (?, ?)", vocabulary.items())
    db.executemany("INSERT INTO vocab_deletes VALUES (?, ?)",
                   ((d, term) for term in vocabulary if len(term) >= TYPO_MIN_LENGTH - 1 for d in deletes(term)))
    db.executescript(INDEXES)
    db.execute("INSERT INTO fts (fts) VALUES ('optimize')")
    db.commit()
    return db.serialize()


class SqliteIndex:
    """A loaded index (read-only use; one per container, reused across requests)."""

    def __init__(self, data: bytes):
        self.db = sqlite3.connect(":memory:", check_same_thread=False)
        self.db.deserialize(data)
        self.size = len(data)
        # One search at a time per loaded index: the full-text hits of a search are written once to a
        # temporary table that the page, the count and the facets all read.
        self._lock = threading.Lock()
        self.db.execute("CREATE TEMP TABLE hits (rowid INTEGER PRIMARY KEY, rank REAL)")
        # Browsing without words counts facets over the whole listing (the slow part at 50k products):
        # those answers depend only on the filters, so they are kept, and the unfiltered ones made now.
        self._browse: OrderedDict[tuple, object] = OrderedDict()
        for (currency,) in self.db.execute("SELECT DISTINCT currency FROM listing").fetchall():
            self._counts(SearchQuery(currency=currency), None)

    def search(self, query: SearchQuery) -> SearchResult:
        with self._lock:
            return self._search(query)

    def _search(self, query: SearchQuery) -> SearchResult:
        match = self._match_expression(query.q)
        if query.q.strip() and match is None:
            return SearchResult([], 0, _empty_facets(), None)
        if match is not None:
            self.db.execute("DELETE FROM temp.hits")
            self.db.execute("INSERT INTO temp.hits SELECT rowid, bm25(fts, 10.0, 1.0, 5.0, 1.0) FROM fts "
                            "WHERE fts MATCH ?", (match,))
        where, params = self._filters(query, match)
        order = _order(query.sort or ("relevance" if match else "newest"), match is not None)
        rows = self.db.execute(
            f"SELECT p.json FROM (SELECT l.rowid AS rowid FROM {_source(match)} WHERE {where} ORDER BY {order} "
            "LIMIT ? OFFSET ?) AS page JOIN products p ON p.rowid = page.rowid",
            [*params, query.limit + 1, query.offset]).fetchall()
        more = len(rows) > query.limit
        products = [json.loads(r[0]) for r in rows[: query.limit]]
        total, facets = self._counts(query, match)
        return SearchResult(products, total, facets, query.offset + query.limit if more else None)

    def _counts(self, query: SearchQuery, match: str | None) -> tuple[int, dict]:
        facets = self._facets(query, match)
        if match is None and query.category is None and query.price_min is None and query.price_max is None:
            # The in-stock facet already counted this: no second pass over the listing.
            return sum(facets["in_stock"].values()) if query.in_stock is None else \
                facets["in_stock"]["true" if query.in_stock else "false"], facets
        where, params = self._filters(query, match)
        return self.db.execute(f"SELECT count(*) FROM {_source(match)} WHERE {where}", params).fetchone()[0], facets

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
            if position == len(terms) - 1 and q.rstrip() == q:  # still being typed
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

    # --- filters and facets --------------------------------------------------------------------

    def _filters(self, query: SearchQuery, match: str | None, skip: str = "") -> tuple[str, list]:
        clauses, params = ["l.currency = ?"], [query.currency]
        if query.category and skip != "category":
            clauses.append("l.rowid IN (SELECT rowid FROM categories WHERE category = ?)")
            params.append(query.category)
        if query.price_min is not None and skip != "price":
            clauses.append("l.price >= ?")
            params.append(query.price_min)
        if query.price_max is not None and skip != "price":
            clauses.append("l.price <= ?")
            params.append(query.price_max)
        if query.in_stock is not None and skip != "in_stock":
            clauses.append("l.in_stock = ?")
            params.append(int(query.in_stock))
        return " AND ".join(clauses), params

    def _facets(self, query: SearchQuery, match: str | None) -> dict:
        return {"category": self._facet("category", query, match, self._category_counts),
                "price": self._facet("price", query, match, self._price_bands),
                "in_stock": self._facet("in_stock", query, match, self._stock_counts)}

    def _facet(self, name: str, query: SearchQuery, match: str | None, count) -> object:
        """A facet's counts; without words they depend only on the other filters, and are kept."""
        if match is not None:
            return count(query, match)
        filters = {"category": query.category, "price": (query.price_min, query.price_max),
                   "in_stock": query.in_stock}
        key = (name, query.currency, *(value for facet, value in filters.items() if facet != name))
        if key not in self._browse:
            self._browse[key] = count(query, None)
            if len(self._browse) > BROWSE_CACHE:
                self._browse.popitem(last=False)
        self._browse.move_to_end(key)
        return self._browse[key]

    def _category_counts(self, query: SearchQuery, match: str | None) -> list[dict]:
        where, params = self._filters(query, match, skip="category")
        rows = self.db.execute(
            f"SELECT c.category, count(*) AS n FROM {_source(match)} JOIN categories c ON c.rowid = l.rowid "
            f"WHERE {where} GROUP BY c.category ORDER BY n DESC, c.category LIMIT 50", params).fetchall()
        return [{"value": c, "count": n} for c, n in rows]

    def _price_bands(self, query: SearchQuery, match: str | None) -> list[dict]:
        where, params = self._filters(query, match, skip="price")
        band = " ".join(f"WHEN l.price < {upper} THEN {i}" for i, upper in enumerate(PRICE_BANDS))
        bands = dict(self.db.execute(
            f"SELECT CASE {band} ELSE {len(PRICE_BANDS)} END AS b, count(*) FROM {_source(match)} WHERE {where} "
            "GROUP BY b", params).fetchall())
        lowers = (0, *PRICE_BANDS)
        return [{"min": lowers[i], "max": PRICE_BANDS[i] if i < len(PRICE_BANDS) else None, "count": bands[i]}
                for i in range(len(lowers)) if bands.get(i)]

    def _stock_counts(self, query: SearchQuery, match: str | None) -> dict:
        where, params = self._filters(query, match, skip="in_stock")
        stock = dict(self.db.execute(
            f"SELECT l.in_stock, count(*) FROM {_source(match)} WHERE {where} GROUP BY l.in_stock", params).fetchall())
        return {"true": stock.get(1, 0), "false": stock.get(0, 0)}


def _source(match: str | None) -> str:
    """The FROM clause. With a match, the search's full-text hits (temp.hits) come first and find their
    listing rows by rowid: otherwise SQLite may walk the listing in sort order and look up each row."""
    if match is None:
        return "listing l"
    return "temp.hits AS hits CROSS JOIN listing l INDEXED BY listing_by_row ON l.rowid = hits.rowid"


def _order(sort: str, matched: bool) -> str:
    return {
        "relevance": "hits.rank, l.rowid" if matched else "l.created_at DESC, l.rowid DESC",
        "newest": "l.created_at DESC, l.rowid DESC",
        "price_asc": "l.price, l.rowid",
        "price_desc": "l.price DESC, l.rowid",
        "title": "l.title, l.rowid",
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
