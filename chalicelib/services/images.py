"""Product images: an upload URL per image (presigned S3 PUT), the image listed on the product at
once (last), its URL under IMAGES_BASE_URL (CloudFront in AWS); the admin product body orders them,
sets their alt text or drops them."""

from chalicelib import clock, config
from chalicelib.errors import InvalidRequest
from chalicelib.models import Image
from chalicelib.repository import images

UPLOAD_SECONDS = 900
EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif"}


def public_url(key: str) -> str:
    settings = config.settings()
    base = settings.images_base_url or f"https://{settings.images_bucket}.s3.amazonaws.com"
    return f"{base}/{key}"


def add(product_id: str, content_type: str, alt: str) -> dict:
    """A new image of the product and where to upload it. Not idempotent by itself (a new image each
    call; the Idempotency-Key layer makes a retry safe). Raises ResourceMissing."""
    image_id = clock.new_id("img", 8)
    key = f"products/{product_id}/{image_id}.{EXTENSIONS[content_type]}"
    image = Image(id=image_id, url=public_url(key), alt=alt)
    images.add_image(product_id, image)
    return {"image_id": image_id, "upload_url": images.upload_url(key, content_type, UPLOAD_SECONDS),
            "url": image.url, "expires_in": UPLOAD_SECONDS}


def ordered(current: list[Image], wanted: list[dict] | None) -> list[Image]:
    """The product's images in the order (and with the alt text) of `wanted` ({id, alt?}); None keeps
    them. Raises InvalidRequest naming an id the product does not have."""
    if wanted is None:
        return current
    known = {image.id: image for image in current}
    result = []
    for index, entry in enumerate(wanted):
        if entry["id"] not in known:
            raise InvalidRequest(f"Product has no image {entry['id']}; upload it first.", param=f"images.{index}.id")
        image = known[entry["id"]]
        result.append(image.model_copy(update={"alt": entry["alt"]}) if entry.get("alt") is not None else image)
    return result
