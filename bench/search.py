"""Search at catalogue sizes: index build time and size, load time, and query latency (p50/p95) over
a mix of storefront queries (words, typos, prefixes, filters, facets, sorts) on synthetic products.

    python -m bench.search [10000,50000,200000]   (or BENCH_SEARCH_SIZES; part of `make bench`)

200k needs ~2 GB of memory and 2-3 minutes on 2 cores (BENCH_SEARCH_SIZES=10000,50000 leaves it out).

Pure: no AWS. What the schedule adds on top at each size is the table read (a Query page of 500
products + one BatchGetItem per 100 SKUs) and three S3 PUTs; what the API function adds on a cold
container is one S3 GET of the index.
"""

import gzip
import json
import os
import random
import statistics
import sys
import time

from chalicelib.search import SearchQuery
from chalicelib.search.sqlite import SqliteIndex, build

NOUNS = ("shirt", "jacket", "shoes", "mug", "scarf", "lamp", "chair", "table", "poster", "bag", "hat", "sock",
         "chaussures", "veste", "chemise", "écharpe", "lampe", "chaise", "sac", "chapeau", "bougie", "tasse")
ADJECTIVES = ("organic", "waterproof", "vintage", "classic", "light", "warm", "bleue", "rouge", "élégante",
              "solide", "recycled", "handmade", "slim", "large", "petite", "douce")
CATEGORIES = ("clothes", "shoes", "home", "kitchen", "outdoor", "toys", "beauty", "garden", "office", "sport",
              "clothes/men", "clothes/women", "home/lighting", "home/textiles", "kitchen/cups", "sport/running")
QUERIES = ("shirt", "organic shirt", "chaussure", "veste bleue", "waterproof jacket", "jackt", "lampe", "mugs",
           "cha", "org", "vintage lamp", "écharpe", "scraf", "bougies", "handmade bag", "red", "slim shi")


def _words(rng: random.Random, count: int) -> list[str]:
    letters = "abcdefghijklmnoprstuvy"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(count)]


def documents(size: int, seed: int = 17) -> list[dict]:
    rng = random.Random(seed)
    filler = _words(rng, 5000)  # a realistic vocabulary: a few thousand distinct words
    docs = []
    for n in range(size):
        noun, adjective = rng.choice(NOUNS), rng.choice(ADJECTIVES)
        title = f"{adjective.capitalize()} {noun} {rng.choice(filler)}"
        description = " ".join([adjective, noun, *rng.sample(filler, rng.randint(15, 40))])
        price = rng.choice((990, 1490, 1999, 2500, 3990, 4990, 7900, 12900, 29900))
        variants = [{"sku": f"SKU{n}-{size_}", "title": size_, "prices": {"EUR": price, "GBP": price * 86 // 100},
                     "compare_at_prices": {}, "available": rng.choice((0, 2, 5, 20)), "sale_starts_at": None,
                     "sale_ends_at": None, "gtin": None, "mpn": None} for size_ in ("S", "M", "L")]
        product = {"id": f"prod_{n:08x}", "title": title, "description": description, "active": True,
                   "variants": [{"sku": v["sku"], "title": v["title"], "price": price, "currency": "EUR",
                                 "available": v["available"]} for v in variants]}
        docs.append({"id": product["id"], "title": title, "description": description,
                     "created_at": f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}T00:00:00Z",
                     "updated_at": "", "categories": rng.sample(CATEGORIES, rng.randint(1, 3)),
                     "tags": [rng.choice(ADJECTIVES)], "brand": None, "images": [], "variants": variants,
                     "product": product})
    return docs


def queries(rng: random.Random, count: int) -> list[SearchQuery]:
    mix = []
    for _ in range(count):
        mix.append(SearchQuery(
            q=rng.choice((*QUERIES, "")), category=rng.choice((None, None, "clothes", "home")),
            price_min=rng.choice((None, None, 1000)), price_max=rng.choice((None, None, 5000)),
            in_stock=rng.choice((None, True)), sort=rng.choice((None, None, "price_asc", "newest")), limit=20,
            offset=rng.choice((0, 0, 0, 20))))
    return mix


def measure(size: int, runs: int = 300) -> dict:
    docs = documents(size)
    started = time.perf_counter()
    data = build(docs)
    build_seconds = time.perf_counter() - started
    started = time.perf_counter()
    index = SqliteIndex(data)
    load_ms = (time.perf_counter() - started) * 1000
    rng = random.Random(size)
    mix = queries(rng, runs)
    for query in mix[:20]:
        index.search(query)  # warm the page cache, as a warm container is
    times, worded, worst = [], [], (0.0, None)
    cpu = []
    for query in mix:
        started, cpu_started = time.perf_counter(), time.process_time()
        index.search(query)
        took = (time.perf_counter() - started) * 1000
        cpu.append((time.process_time() - cpu_started) * 1000)
        times.append(took)
        if query.q:
            worded.append(took)
        worst = max(worst, (took, query), key=lambda pair: pair[0])
    everything = [(time.perf_counter(), index.search(SearchQuery(q="", limit=20)), time.perf_counter())
                  for _ in range(20)]
    browse = statistics.median((end - start) * 1000 for start, _, end in everything)
    quantiles = statistics.quantiles(times, n=100)
    with_words = statistics.quantiles(worded, n=100)
    on_cpu = statistics.quantiles(cpu, n=100)
    return {"products": size, "build_s": round(build_seconds, 2), "index_mb": round(len(data) / 1e6, 1),
            "gzipped_mb": round(len(gzip.compress(data, 1)) / 1e6, 1), "load_ms": round(load_ms),
            "p50_ms": round(quantiles[49], 2), "p95_ms": round(quantiles[94], 2),
            "words_p50_ms": round(with_words[49], 2), "words_p95_ms": round(with_words[94], 2),
            "cpu_p50_ms": round(on_cpu[49], 2), "cpu_p95_ms": round(on_cpu[94], 2), "cpu_max_ms": round(max(cpu), 1),
            "max_ms": round(max(times), 1),
            "browse_all_ms": round(browse, 1), "slowest": repr(worst[1])}


def table(rows: list[dict]) -> str:
    lines = ["| products | build s | index MB | gzip MB | load ms | all queries p50 / p95 ms | with words p50 / p95 ms "
             "| CPU p50 / p95 / max ms | max ms | browse all ms |",
             "| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    lines += [f"| {r['products']:,} | {r['build_s']} | {r['index_mb']} | {r['gzipped_mb']} | {r['load_ms']} | "
              f"{r['p50_ms']} / {r['p95_ms']} | {r['words_p50_ms']} / {r['words_p95_ms']} | "
              f"{r['cpu_p50_ms']} / {r['cpu_p95_ms']} / {r['cpu_max_ms']} | {r['max_ms']} | "
              f"{r['browse_all_ms']} |" for r in rows]
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    raw = argv[0] if argv else os.environ.get("BENCH_SEARCH_SIZES", "10000,50000,200000")
    rows = []
    for size in (int(s) for s in raw.split(",") if s.strip()):
        print(f"search: {size:,} products...", file=sys.stderr)
        rows.append(measure(size))
        print(json.dumps(rows[-1]), file=sys.stderr)
    print(table(rows))


if __name__ == "__main__":
    main(sys.argv[1:])
