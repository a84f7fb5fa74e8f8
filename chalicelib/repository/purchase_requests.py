"""Purchase requests: a company buyer's checkout above their spending limit, waiting for an approver.

| pattern                                | key or index                                                        |
| -------------------------------------- | ------------------------------------------------------------------- |
| a company's request                    | PK=COMPANY#<co id>, SK=PURCHASE_REQUEST#<id> (only ever read through |
|                                        | the caller's own company: another company's id is not found)        |
| a company's requests, newest first     | GSI1: GSI1PK=COMPANY#<co id>#PURCHASE_REQUESTS, <created_at>#<id>   |
| open one (idempotent: id from the cart | Put, attribute_not_exists(PK)                                       |
|   and its version)                     |                                                                     |
| decide (approve / reject / order)      | Put on the version read                                             |

The stream turns a new request into PurchaseRequested emails (to each approver) and a decision into
PurchaseRequestApproved / PurchaseRequestRejected (to the buyer): events.purchase_request_events.
"""

from botocore.exceptions import ClientError

from chalicelib.clock import iso
from chalicelib.models.companies import PurchaseRequest
from chalicelib.repository import dynamo


def request_key(company_id: str, request_id: str) -> dict:
    return {"PK": f"COMPANY#{company_id}", "SK": f"PURCHASE_REQUEST#{request_id}"}


def _item(request: PurchaseRequest) -> dict:
    return (request_key(request.company_id, request.id) | request.model_dump(mode="json")
            | {"GSI1PK": f"COMPANY#{request.company_id}#PURCHASE_REQUESTS",
               "GSI1SK": f"{iso(request.created_at)}#{request.id}"})


def open_request(request: PurchaseRequest) -> PurchaseRequest:
    """Write the request unless it exists; answers the stored one (a repeat of the same checkout)."""
    try:
        dynamo.call("put_item", TableName=dynamo.table(), Item=dynamo.to_item(_item(request)),
                    ConditionExpression="attribute_not_exists(PK)")
        return request
    except ClientError as error:
        if dynamo.error_code(error) != "ConditionalCheckFailedException":
            raise
    return get(request.company_id, request.id) or request


def get(company_id: str, request_id: str) -> PurchaseRequest | None:
    item = dynamo.get(request_key(company_id, request_id))
    return PurchaseRequest.model_validate(item) if item else None


def list_recent(company_id: str, limit: int, cursor: str | None) -> tuple[list[PurchaseRequest], str | None]:
    items, next_cursor = dynamo.query_page("GSI1", "GSI1PK", f"COMPANY#{company_id}#PURCHASE_REQUESTS", limit,
                                           cursor, newest_first=True)
    return [PurchaseRequest.model_validate(item) for item in items], next_cursor


def save(before: PurchaseRequest, after: PurchaseRequest) -> bool:
    """Write `after` if the stored request is still at `before`'s version; False when another decision
    came first (read it again)."""
    try:
        dynamo.call("put_item", TableName=dynamo.table(), Item=dynamo.to_item(_item(after)),
                    ConditionExpression="version = :version",
                    ExpressionAttributeValues=dynamo.values(version=before.version))
        return True
    except ClientError as error:
        if dynamo.error_code(error) == "ConditionalCheckFailedException":
            return False
        raise
