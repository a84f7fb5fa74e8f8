"""Deploy the back office (admin/dist, built by `make admin`) to the stack's bucket behind CloudFront.

    python infra/admin_site.py --stack commerce-prod [--dist admin/dist]

Reads the stack's outputs (AdminBucketName, AdminDistributionId, ApiBaseUrl; infra/deploy.yaml),
writes config.json (`{"apiBaseUrl": ...}`, which the app reads at start) next to the built files,
uploads everything with its content type (hashed assets cached for a year, index.html and
config.json revalidated), deletes objects the build no longer has, and invalidates `/index.html`
and `/config.json` at CloudFront. Uses the AWS credentials of the shell, like `aws`.
"""

import argparse
import json
import mimetypes
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "admin" / "dist"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def stack_outputs(cloudformation, stack: str) -> dict[str, str]:
    described = cloudformation.describe_stacks(StackName=stack)["Stacks"][0]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def write_config(dist: Path, api_base_url: str, cognito: dict | None = None) -> Path:
    """`cognito`: {"region", "clientId"} of the staff pool's back-office client (staff sign-in)."""
    path = dist / "config.json"
    config = {"apiBaseUrl": api_base_url.rstrip("/")} | ({"cognito": cognito} if cognito else {})
    path.write_text(json.dumps(config) + "\n")
    return path


def upload(s3, bucket: str, dist: Path) -> list[str]:
    """Put every file of `dist` (assets/* immutable, the rest revalidated), delete the rest; returns the keys."""
    keys = []
    for path in sorted(p for p in dist.rglob("*") if p.is_file()):
        key = path.relative_to(dist).as_posix()
        content_type = mimetypes.guess_type(key)[0] or "application/octet-stream"
        s3.put_object(Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType=content_type,
                      CacheControl=IMMUTABLE if key.startswith("assets/") else REVALIDATE)
        keys.append(key)
    stale = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
        stale += [{"Key": o["Key"]} for o in page.get("Contents", []) if o["Key"] not in keys]
    for start in range(0, len(stale), 1000):
        s3.delete_objects(Bucket=bucket, Delete={"Objects": stale[start:start + 1000]})
    return keys


def invalidate(cloudfront, distribution_id: str) -> str:
    answer = cloudfront.create_invalidation(DistributionId=distribution_id, InvalidationBatch={
        "Paths": {"Quantity": 2, "Items": ["/index.html", "/config.json"]}, "CallerReference": str(time.time_ns())})
    return answer["Invalidation"]["Id"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="the deployed stack, e.g. commerce-prod")
    parser.add_argument("--dist", type=Path, default=DIST)
    args = parser.parse_args(argv)
    if not (args.dist / "index.html").is_file():
        raise SystemExit(f"{args.dist}/index.html is missing: run `make admin` first")
    import boto3

    outputs = stack_outputs(boto3.client("cloudformation"), args.stack)
    cognito = ({"region": outputs["StaffPoolId"].split("_", 1)[0], "clientId": outputs["BackOfficeClientId"]}
               if outputs.get("BackOfficeClientId") else None)
    write_config(args.dist, outputs["ApiBaseUrl"], cognito)
    keys = upload(boto3.client("s3"), outputs["AdminBucketName"], args.dist)
    invalidation = invalidate(boto3.client("cloudfront"), outputs["AdminDistributionId"])
    print(f"uploaded {len(keys)} files to s3://{outputs['AdminBucketName']}; invalidation {invalidation}; "
          f"the back office is at {outputs['AdminUrl']}")


if __name__ == "__main__":
    main()
