"""Customer service: the customer's messages about an order (with its order token, or signed in as its
owner), the shop's inbox, answers, internal notes and closing a thread."""

from typing import Literal

from chalice import Blueprint, Response
from pydantic import Field

from chalicelib.errors import Conflict, EmailNotVerified, ResourceMissing, Unauthenticated
from chalicelib.handlers.common import (
    ORDER_TOKEN,
    PageQuery,
    customer_order,
    documented,
    page,
    parse,
    parse_query,
    require_admin,
)
from chalicelib.models import Request
from chalicelib.models.crm import Message, MessageBody, Thread
from chalicelib.models.orders import Order
from chalicelib.responses import MessageList, ThreadPage
from chalicelib.services import messages

bp = Blueprint(__name__)
ADMIN = "admin_messages"
CUSTOMER_ERRORS = [ResourceMissing, Unauthenticated, EmailNotVerified]


class MessageIn(Request):
    body: MessageBody


class ReplyIn(Request):
    body: MessageBody
    internal: bool = Field(False, description="An internal note: never shown or sent to the customer.")


class CloseIn(Request):
    pass


class ThreadsQuery(PageQuery):
    status: Literal["open", "closed"] = Field("open", description="`open` (oldest first: the inbox) or `closed` "
                                                                  "(most recently closed first).")


def _customer_order(order_id: str) -> Order:
    """The order the caller proves is theirs, as GET /orders/{id}: its `X-Order-Token`, or else the owner's
    bearer token (an invalid one is a 401; another customer's order the same 404 as an unknown one)."""
    return customer_order(bp.current_request, order_id)


@bp.route("/orders/{order_id}/messages", methods=["POST"])
@documented(Message, status=201, request=MessageIn, errors=[*CUSTOMER_ERRORS, Conflict],
            summary="Write to the shop about an order", optional_headers=ORDER_TOKEN)
def write_message(order_id):
    body = parse(MessageIn, bp.current_request)
    message = messages.write(_customer_order(order_id), body.body)
    return Response(message.model_dump(mode="json"), status_code=201)


@bp.route("/orders/{order_id}/messages", methods=["GET"])
@documented(MessageList, errors=CUSTOMER_ERRORS, summary="The conversation about an order (no internal notes)",
            optional_headers=ORDER_TOKEN)
def read_messages(order_id):
    found = messages.read(_customer_order(order_id))
    return {"data": [m.model_dump(mode="json") for m in found]}


@bp.route("/admin/messages", methods=["GET"])
@documented(ThreadPage, query=ThreadsQuery, summary="The inbox: threads, oldest open first", tag=ADMIN)
def inbox():
    """Threads (one per order with messages): `open` ones oldest first by when they were opened (or
    opened again by a customer's message), `closed` ones most recently closed first."""
    request = bp.current_request
    require_admin(request)
    query = parse_query(ThreadsQuery, request)
    found, next_cursor = messages.inbox(query.status, query.limit, query.cursor)
    return page(found, next_cursor)


@bp.route("/admin/orders/{order_id}/messages", methods=["POST"])
@documented(Message, status=201, request=ReplyIn, errors=[ResourceMissing, Conflict],
            summary="Answer the customer (emailed) or add an internal note", tag=ADMIN)
def reply(order_id):
    require_admin(bp.current_request)
    body = parse(ReplyIn, bp.current_request)
    return Response(messages.reply(order_id, body.body, body.internal).model_dump(mode="json"), status_code=201)


@bp.route("/admin/orders/{order_id}/messages", methods=["GET"])
@documented(MessageList, errors=[ResourceMissing], summary="An order's conversation with internal notes",
            tag=ADMIN)
def admin_read_messages(order_id):
    """The shop's view of the conversation about an order, oldest first, internal notes included (an
    extension of the contract: the inbox lists threads, this reads one)."""
    require_admin(bp.current_request)
    return {"data": [m.model_dump(mode="json") for m in messages.conversation(order_id)]}


@bp.route("/admin/orders/{order_id}/messages/close", methods=["POST"])
@documented(Thread, request=CloseIn, errors=[ResourceMissing], summary="Close an order's thread", tag=ADMIN)
def close_thread(order_id):
    require_admin(bp.current_request)
    parse(CloseIn, bp.current_request)
    return messages.close(order_id).model_dump(mode="json")
