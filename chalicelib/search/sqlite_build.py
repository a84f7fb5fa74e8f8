"""Building the search index database (see `sqlite.py` for how it is read).

Tables: `fts` (title, body, codes, french: porter stemming; bm25 weights 10, 1, 5, 1; contentless:
only the postings, the text is not read back), `products`
(the stored Product JSON, read for the page only), `listing` (one narrow row per product and currency:
lowest price, its price band, in stock, created, title, their ranks, and the product's *category set*, keyed by
(product row, currency): what
filters, facets and sorts read), `category_sets` (each distinct set of categories products are in,
and its members: a shop has far fewer sets than products, so the category facet is one GROUP BY
over a column and a few hundred sets expanded), and `vocab` (every word with its document count)
with `vocab_deletes` (each word with one letter removed) for prefixes and typos.
`PRAGMA user_version` is FORMAT: an index of another format is not loaded (the schedule rebuilds it).
"""

import json
import sqlite3
from collections import Counter

from chalicelib.search import PRICE_BANDS
from chalicelib.search.documents import in_stock, lowest_price
from chalicelib.search.stemming import deletes, french_stem, normalise, words

FORMAT = 2
TYPO_MIN_LENGTH = 4      # shorter words are too ambiguous to correct

SCHEMA = """
CREATE VIRTUAL TABLE fts USING fts5(title, body, codes, french, content = '',
                                    tokenize = 'porter unicode61 remove_diacritics 2');
CREATE TABLE products (rowid INTEGER PRIMARY KEY, id TEXT, json TEXT);
CREATE TABLE listing (rowid INTEGER, currency TEXT, price INTEGER, band INTEGER, in_stock INTEGER,
                      created_at TEXT, title TEXT, category_set INTEGER, created_rank INTEGER, title_rank INTEGER,
                      PRIMARY KEY (rowid, currency)) WITHOUT ROWID;
CREATE TABLE category_sets (id INTEGER PRIMARY KEY, categories TEXT);
CREATE TABLE category_set_members (category TEXT, id INTEGER);
CREATE TABLE vocab (term TEXT PRIMARY KEY, docs INTEGER) WITHOUT ROWID;
CREATE TABLE vocab_deletes (variant TEXT, term TEXT);
"""
INDEXES = """
CREATE INDEX listing_by_price ON listing (currency, price, rowid, in_stock, category_set);
CREATE INDEX listing_by_created ON listing (currency, created_at, rowid, price, in_stock, category_set);
CREATE INDEX listing_by_title ON listing (currency, title, rowid, price, in_stock, category_set);
CREATE INDEX listing_by_band ON listing (currency, band, in_stock, price);
CREATE INDEX listing_facets ON listing (currency, category_set, band, in_stock, price);
CREATE INDEX category_set_members_by_category ON category_set_members (category, id);
CREATE INDEX vocab_deletes_by_variant ON vocab_deletes (variant);
"""


def band(price: int) -> int:
    """The price facet band of `price` (an index into PRICE_BANDS; len(PRICE_BANDS) for the last)."""
    return next((i for i, upper in enumerate(PRICE_BANDS) if price < upper), len(PRICE_BANDS))


def _ranks(keys: list[tuple]) -> dict[int, int]:
    """{row: its position in the order of `keys` ((value, row) pairs)}."""
    return {row: position for position, (_, row) in enumerate(sorted(keys))}


def build(documents: list[dict]) -> bytes:
    """The index database of `documents` (documents.document), as bytes."""
    db = sqlite3.connect(":memory:")
    db.executescript(SCHEMA)
    vocabulary: Counter = Counter()
    category_sets: dict[tuple[str, ...], int] = {}
    titles = [normalise(doc["title"]) for doc in documents]
    # Each product's place in the date and title orders (ties by row), so a search's hits sort on integers.
    created_rank = _ranks([(doc["created_at"], rowid) for rowid, doc in enumerate(documents, start=1)])
    title_rank = _ranks([(title, rowid) for rowid, title in enumerate(titles, start=1)])
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
        categories = tuple(sorted(set(doc["categories"])))
        category_set = category_sets.setdefault(categories, len(category_sets) + 1)
        currencies = {c for v in doc["variants"] for c in v["prices"]}
        stocked, title = int(in_stock(doc)), titles[rowid - 1]
        rows = []
        for currency in sorted(currencies):
            price = lowest_price(doc, currency)
            rows.append((rowid, currency, price, band(price), stocked, doc["created_at"], title, category_set,
                         created_rank[rowid], title_rank[rowid]))
        db.executemany("INSERT INTO listing VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    db.executemany("INSERT INTO category_sets VALUES (?, ?)",
                   [(i, json.dumps(list(categories))) for categories, i in category_sets.items()])
    db.executemany("INSERT INTO category_set_members VALUES (?, ?)",
                   [(category, i) for categories, i in category_sets.items() for category in categories])
    db.executemany("INSERT INTO vocab VALUES (?, ?)", vocabulary.items())
    db.executemany("INSERT INTO vocab_deletes VALUES (?, ?)",
                   ((d, term) for term in vocabulary if len(term) >= TYPO_MIN_LENGTH - 1 for d in deletes(term)))
    db.executescript(INDEXES)
    db.execute(f"PRAGMA user_version = {FORMAT}")
    db.execute("INSERT INTO fts (fts) VALUES ('optimize')")
    db.commit()
    return db.serialize()
