"""Write the OpenAPI document of the API to openapi.json at the repository root (`make openapi`).

    python -m tools.openapi            # (re)write openapi.json
    python -m tools.openapi --check    # exit 1 if openapi.json is not what the code describes

The document is built from the code (chalicelib/openapi.py); tests/test_openapi.py fails while the
committed file is stale, and the TypeScript client (clients/typescript) is generated from it.
"""

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "openapi.json"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only compare, do not write")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from app import app
    from chalicelib import openapi

    text = openapi.render(app)
    if args.check:
        if not TARGET.exists() or TARGET.read_text(encoding="utf-8") != text:
            print(f"{TARGET.name} is stale: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET.relative_to(ROOT)} ({len(text):,} bytes, {len(openapi.routes(app))} operations)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
