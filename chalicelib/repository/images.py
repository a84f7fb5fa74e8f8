"""Product images: presigned uploads into the images bucket (S3, not the table), and the product's
ordered `images` list (PK=PRODUCT#<id>, SK=PRODUCT).

| pattern                          | key or index                                       |
| -------------------------------- | -------------------------------------------------- |
| an image's upload URL            | S3 PUT <IMAGES_BUCKET>/products/<id>/<image id>    |
| add an image to a product        | PK=PRODUCT#<id>, SK=PRODUCT (list_append)          |
"""

from functools import lru_cache

from botocore.config import Config
from botocore.exceptions import ClientError

from chalicelib import config
from chalicelib.errors import ResourceMissing
from chalicelib.models import Image
from chalicelib.repository import dynamo
from chalicelib.repository.catalog import product_key


@lru_cache(maxsize=1)
def s3():
    import boto3

    return boto3.client("s3", config=Config(signature_version="s3v4", retries={"mode": "standard", "max_attempts": 4},
                                            connect_timeout=2, read_timeout=10))


def upload_url(key: str, content_type: str, seconds: int) -> str:
    """A presigned PUT URL of the object (the uploader sends the same Content-Type), valid `seconds`."""
    return s3().generate_presigned_url("put_object", ExpiresIn=seconds, Params={
        "Bucket": config.settings().images_bucket, "Key": key, "ContentType": content_type})


def add_image(product_id: str, image: Image) -> None:
    """Append the image to the product's images. Raises ResourceMissing for an unknown product."""
    try:
        dynamo.call("update_item", TableName=dynamo.table(), Key=dynamo.to_item(product_key(product_id)),
                    UpdateExpression="SET images = list_append(if_not_exists(images, :none), :image)",
                    ConditionExpression="attribute_exists(PK)",
                    ExpressionAttributeValues=dynamo.values(none=[], image=[image.model_dump()]))
    except ClientError as error:
        if dynamo.error_code(error) == "ConditionalCheckFailedException":
            raise ResourceMissing("No such product.") from error
        raise
