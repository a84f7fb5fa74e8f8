"""What verifying a customer's Cognito token costs per request, cold and warm (issue 14's note).

    make run                                  # in one terminal (any ports)
    .venv/bin/python -m bench.token_verification [--runs 5]

Each run is a fresh interpreter: *import* is `chalicelib.accounts`; *cold* is the first verification
(chalicelib/rs256.py on the standard library, the JWKS fetched from the local pool on the moto server);
*refetch* is a later verification after the cached key set was dropped (what an expired cache or an
unknown key id costs); *warm* is the median and p90 of 200 verifications with the key set cached
(signature, claims). For an access token the first verification also reads the user's email with
GetUser (then cached 5 minutes).
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

PROBE = r"""
import json, os, statistics, sys, time
token = sys.argv[1]
t0 = time.perf_counter()
from chalicelib import accounts
t1 = time.perf_counter()
accounts.verify(token)
t2 = time.perf_counter()
warm = []
for _ in range(200):
    a = time.perf_counter(); accounts.verify(token); warm.append(time.perf_counter() - a)
accounts._jwks.update(url=None, at=0.0, keys=None)
a = time.perf_counter(); accounts.verify(token); refetch = time.perf_counter() - a
print(json.dumps({"import": (t1 - t0) * 1e3, "cold": (t2 - t1) * 1e3, "refetch": refetch * 1e3,
                  "warm": statistics.median(warm) * 1e3, "warm_p90": sorted(warm)[179] * 1e3}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    from devstack.accounts import SETTINGS_FILE

    settings = json.loads(SETTINGS_FILE.read_text())
    env = dict(os.environ, AWS_ENDPOINT_URL=settings["moto_url"], AWS_DEFAULT_REGION=settings["region"],
               AWS_ACCESS_KEY_ID="local", AWS_SECRET_ACCESS_KEY="local",  # noqa: S106 - moto
               COGNITO_USER_POOL_ID=settings["user_pool_id"], COGNITO_CLIENT_ID=settings["client_id"],
               COGNITO_JWKS_URL=f"{settings['moto_url']}/{settings['user_pool_id']}/.well-known/jwks.json")
    for kind in ("id", "access"):
        token = subprocess.run([sys.executable, "-m", "tools.token", *(["--access"] if kind == "access" else [])],
                               capture_output=True, text=True, check=True).stdout.strip()
        runs = []
        for _ in range(args.runs):
            out = subprocess.run([sys.executable, "-c", PROBE, token], env=env, capture_output=True, text=True,
                                 check=True).stdout
            runs.append(json.loads(out))
            time.sleep(0.1)
        medians = {key: round(statistics.median(run[key] for run in runs), 3) for key in runs[0]}
        print(f"{kind} token, median of {args.runs} interpreters (ms): {json.dumps(medians)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
