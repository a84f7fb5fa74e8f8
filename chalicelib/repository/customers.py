"""Customers: the profile and the address book of one customer, in the customer's own partition.

`PK=CUSTOMER#<customer id>`: `SK=PROFILE` (email, name, phone, marketing_consent {granted, at, source},
default_address_id, created_at), one `SK=ADDRESS#<address id>` per saved address, and `SK=ACCOUNT_CART`
pointing at the account's cart (`cart_id`). The shop's
figures about the customer (`SK=STATS`) and their messages live in the same partition but belong to
the CRM (repository modules of their own); erasure removes every item of the partition.
"""

from chalicelib.clock import iso
from chalicelib.models.customers import Customer, MarketingConsent, SavedAddress
from chalicelib.repository import dynamo

MAX_ADDRESSES = 50


def profile_key(customer_id: str) -> dict:
    return {"PK": f"CUSTOMER#{customer_id}", "SK": "PROFILE"}


def address_key(customer_id: str, address_id: str) -> dict:
    return {"PK": f"CUSTOMER#{customer_id}", "SK": f"ADDRESS#{address_id}"}


def get_profile(customer_id: str) -> Customer | None:
    item = dynamo.get(profile_key(customer_id))
    return Customer.model_validate(item) if item else None


def marketing_consent(customer_id: str) -> bool:
    """Whether the customer agreed to marketing email (a profile that does not exist: no)."""
    item = dynamo.get(profile_key(customer_id), consistent=False)
    return bool(item and (item.get("marketing_consent") or {}).get("granted"))


def save_profile(customer_id: str, email: str, now, **changes) -> Customer:
    """Set `changes` (name, phone, marketing_consent, default_address_id; None removes) on the profile,
    creating it with `email` and `created_at` on its first write. Idempotent: the same changes again
    write the same values."""
    sets = ["email = :email", "created_at = if_not_exists(created_at, :now)", "id = :id"]
    removes, values, names = [], {"email": email, "now": iso(now), "id": customer_id}, {}
    for name, value in changes.items():
        names[f"#{name}"] = name
        if value is None:
            removes.append(f"#{name}")
        else:
            sets.append(f"#{name} = :{name}")
            values[name] = value.model_dump(mode="json") if isinstance(value, MarketingConsent) else value
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    kwargs = {"ExpressionAttributeNames": names} if names else {}
    answer = dynamo.call("update_item", TableName=dynamo.table(), Key=dynamo.to_item(profile_key(customer_id)),
                         UpdateExpression=expression, ExpressionAttributeValues=dynamo.values(**values),
                         ReturnValues="ALL_NEW", **kwargs)
    return Customer.model_validate(dynamo.from_item(answer["Attributes"]))


def set_consent(customer_id: str, consent: MarketingConsent) -> bool:
    """Set the consent of an existing profile (unsubscribe). False when there is no profile (no consent to
    withdraw): a guest's consent lives on the profile too, created at checkout."""
    from botocore.exceptions import ClientError

    try:
        dynamo.call("update_item", TableName=dynamo.table(), Key=dynamo.to_item(profile_key(customer_id)),
                    UpdateExpression="SET marketing_consent = :consent", ConditionExpression="attribute_exists(PK)",
                    ExpressionAttributeValues=dynamo.values(consent=consent.model_dump(mode="json")))
        return True
    except ClientError as error:
        if dynamo.error_code(error) == "ConditionalCheckFailedException":
            return False
        raise


def grant_consent_once(customer_id: str, email: str, consent: MarketingConsent) -> None:
    """Record a guest's consent given at checkout or on a cart: creates the profile when missing, never
    overrides a later decision (only when the stored one is older or absent)."""
    from botocore.exceptions import ClientError

    try:
        dynamo.call("update_item", TableName=dynamo.table(), Key=dynamo.to_item(profile_key(customer_id)),
                    UpdateExpression="SET marketing_consent = :consent, email = if_not_exists(email, :email), "
                                     "id = :id, created_at = if_not_exists(created_at, :at)",
                    ConditionExpression="attribute_not_exists(marketing_consent.#at) OR marketing_consent.#at < :at",
                    ExpressionAttributeNames={"#at": "at"},
                    ExpressionAttributeValues=dynamo.values(consent=consent.model_dump(mode="json"), email=email,
                                                            id=customer_id, at=iso(consent.at)))
    except ClientError as error:
        if dynamo.error_code(error) != "ConditionalCheckFailedException":
            raise


def list_addresses(customer_id: str) -> list[SavedAddress]:
    """The address book (at most MAX_ADDRESSES), in address id order."""
    items, _ = dynamo.query_page(None, "PK", f"CUSTOMER#{customer_id}", MAX_ADDRESSES, None,
                                 sk_condition=" AND begins_with(#sk, :prefix)", prefix="ADDRESS#")
    return [_address(item) for item in items]


def get_address(customer_id: str, address_id: str) -> SavedAddress | None:
    item = dynamo.get(address_key(customer_id, address_id))
    return _address(item) if item else None


def _address(item: dict) -> SavedAddress:
    return SavedAddress.model_validate({k: v for k, v in item.items() if k not in ("PK", "SK")})


def save_address(customer_id: str, address: SavedAddress) -> None:
    item = address_key(customer_id, address.id) | address.model_dump(mode="json", exclude={"default"})
    dynamo.call("put_item", TableName=dynamo.table(), Item=dynamo.to_item(item))


def delete_address(customer_id: str, address_id: str) -> bool:
    """Delete a saved address; False when there was none."""
    key = dynamo.to_item(address_key(customer_id, address_id))
    answer = dynamo.call("delete_item", TableName=dynamo.table(), Key=key, ReturnValues="ALL_OLD")
    return bool(answer.get("Attributes"))


def everything(customer_id: str) -> list[dict]:
    """Every item of the customer's partition (profile, addresses, the shop's figures...), keys left out."""
    return [{k: v for k, v in item.items() if k != "PK"}
            for item in dynamo.query_all(None, "PK", f"CUSTOMER#{customer_id}")]


def erase(customer_id: str) -> int:
    """Delete every item of the customer's partition; returns how many. Safe to repeat."""
    keys = [{"PK": f"CUSTOMER#{customer_id}", "SK": item["SK"]} for item in everything(customer_id)]
    for start in range(0, len(keys), 25):
        request = {dynamo.table(): [{"DeleteRequest": {"Key": dynamo.to_item(k)}} for k in keys[start:start + 25]]}
        for _ in range(10):
            request = dynamo.call("batch_write_item", RequestItems=request).get("UnprocessedItems") or {}
            if not request:
                break
    return len(keys)


def cart_key(customer_id: str) -> dict:
    # Not SK=CART: the stream reads an item with SK=CART as a cart (repository/stream.py).
    return {"PK": f"CUSTOMER#{customer_id}", "SK": "ACCOUNT_CART"}


def open_cart(customer_id: str) -> str | None:
    """The id of the account's cart (it may since have been checked out or expired)."""
    item = dynamo.get(cart_key(customer_id))
    return item.get("cart_id") if item else None


def point_to_cart(customer_id: str, cart_id: str, instead_of: str | None) -> bool:
    """Make `cart_id` the account's cart if it still points at `instead_of` (None: at nothing). False when a
    concurrent request moved it first (read again)."""
    from botocore.exceptions import ClientError

    condition = "attribute_not_exists(PK)" if instead_of is None else "cart_id = :old"
    extra = {"ExpressionAttributeValues": dynamo.values(old=instead_of)} if instead_of is not None else {}
    item = dynamo.to_item(cart_key(customer_id) | {"cart_id": cart_id})
    try:
        dynamo.call("put_item", TableName=dynamo.table(), Item=item, ConditionExpression=condition, **extra)
        return True
    except ClientError as error:
        if dynamo.error_code(error) == "ConditionalCheckFailedException":
            return False
        raise
