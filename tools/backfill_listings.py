"""Backfill the product listings of products stored before categories and listings existed.

    python -m tools.backfill_listings                     # active products: a paged Query (GSI1 PRODUCTS)
    python -m tools.backfill_listings --include-inactive  # every product: a paged Scan (maintenance only)
    python -m tools.backfill_listings --cursor <cursor>   # resume where a run stopped

Run from the repository root against the table of TABLE_NAME (locally, with
AWS_ENDPOINT_URL=http://127.0.0.1:5000). Idempotent and resumable: each page prints the counts so
far and the cursor of the next page; running it twice writes the same items. Safe while the shop is
open (chalicelib/services/listing_backfill.py). Needs dynamodb:Query on GSI1, Scan with
--include-inactive, BatchGetItem, and TransactWriteItems (UpdateItem, PutItem) on the table.
"""

import argparse
import json
import sys

from chalicelib.services import listing_backfill


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.backfill_listings", description=__doc__.splitlines()[0])
    parser.add_argument("--include-inactive", action="store_true",
                        help="inactive products too (a Scan of the table: they have no key to query)")
    parser.add_argument("--cursor", help="resume from this cursor (printed after each page)")
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args(argv)

    def progress(counts: dict, cursor: str | None) -> None:
        print(json.dumps(counts | {"next_cursor": cursor}), flush=True)

    counts = listing_backfill.backfill(args.include_inactive, args.cursor, args.page_size, progress)
    print(json.dumps({"done": True} | counts))
    return 0


if __name__ == "__main__":
    sys.exit(main())
