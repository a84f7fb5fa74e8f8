"""Documents of record in S3 (the DOCUMENTS_BUCKET): invoice PDFs under `invoices/<year>/<number>.pdf`.

| pattern              | key                                      |
| -------------------- | ---------------------------------------- |
| a document's bytes   | S3 object <DOCUMENTS_BUCKET>/<key>       |
"""

from functools import lru_cache

from botocore.config import Config
from botocore.exceptions import ClientError

from chalicelib import config
from chalicelib.repository import dynamo


@lru_cache(maxsize=1)
def s3():
    import boto3

    return boto3.client("s3", config=Config(retries={"mode": "standard", "max_attempts": 4},
                                            connect_timeout=2, read_timeout=10))


def _bucket() -> str:
    return config.settings().documents_bucket


def store(key: str, body: bytes, content_type: str) -> None:
    """Write the document (the same bytes again on a retry: a rendering is deterministic)."""
    s3().put_object(Bucket=_bucket(), Key=key, Body=body, ContentType=content_type)


def exists(key: str) -> bool:
    try:
        s3().head_object(Bucket=_bucket(), Key=key)
    except ClientError as error:
        if dynamo.error_code(error) in ("NoSuchKey", "404"):
            return False
        raise
    return True


def fetch(key: str) -> bytes | None:
    try:
        return s3().get_object(Bucket=_bucket(), Key=key)["Body"].read()
    except ClientError as error:
        if dynamo.error_code(error) in ("NoSuchKey", "404"):
            return None
        raise


def link(key: str, seconds: int) -> str:
    """A presigned GET URL of the document, valid for `seconds`."""
    return s3().generate_presigned_url("get_object", Params={"Bucket": _bucket(), "Key": key}, ExpiresIn=seconds)
