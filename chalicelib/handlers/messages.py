"""Customer service: the customer's messages about an order (with its order token), the shop's inbox,
answers, internal notes and closing a thread."""

from typing import Literal

from chalice import Blueprint, Response
from pydantic import Field

from chalicelib.errors import Conflict, ResourceMissing
from chalicelib.handlers.common import PageQuery, documented, page, parse, parse_query, require_admin
from chalicelib.models import Request
from chalicelib.models.crm import Message, MessageBody, Thread
from chalicelib.responses import MessageList, ThreadPage
from chalicelib.services import messages

bp = Blueprint(__name__)
ADMIN = "admin_messages"
ORDER_TOKEN = {"X-Order-Token": "The `order_token` of the checkout answer; without the right one the order is a 404."}


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


def _order_token(request) -> str | None:
    # The one place a customer proves the order is theirs. With the accounts merge, the owner's
    # `Authorization: Bearer <Cognito JWT>` is accepted here too (API.md: "order token or owner").
    return request.headers.get("x-order-token")


@bp.route("/orders/{order_id}/messages", methods=["POST"])
@documented(Message, status=201, request=MessageIn, errors=[ResourceMissing, Conflict],
            summary="Write to the shop about an order", headers=ORDER_TOKEN)
def write_message(order_id):
    request = bp.current_request
    body = parse(MessageIn, request)
    message = messages.write(order_id, _order_token(request), body.body)
    return Response(message.model_dump(mode="json"), status_code=201)


@bp.route("/orders/{order_id}/messages", methods=["GET"])
@documented(MessageList, errors=[ResourceMissing], summary="The conversation about an order (no internal notes)",
            headers=ORDER_TOKEN)
def read_messages(order_id):
    found = messages.read(order_id, _order_token(bp.current_request))
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
