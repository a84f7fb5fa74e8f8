"""Staff accounts (owner only, `staff:manage`): the staff Cognito pool's users and their roles
(chalicelib/services/staff_accounts.py)."""

from typing import Literal
from urllib.parse import unquote

from chalice import Blueprint
from pydantic import Field

from chalicelib.errors import LastOwner, ResourceExists, ResourceMissing
from chalicelib.handlers.common import NoBody, admin_body, created, documented, require_admin
from chalicelib.models import Email, Request
from chalicelib.models.base import Model
from chalicelib.services import staff_accounts

bp = Blueprint(__name__)
TAG = "staff"
Role = Literal["owner", "manager", "support", "fulfilment"]


class StaffMember(Model):
    username: str = Field(description="The Cognito username: the path's `{username}`.")
    email: str
    roles: list[Role] = Field(description="The role groups the user is in (one, unless set in the AWS console).")
    enabled: bool = Field(description="False: disabled, cannot sign in.")
    status: str = Field(description="Cognito's UserStatus: `CONFIRMED`, `FORCE_CHANGE_PASSWORD` (invited, "
                                    "has not signed in yet), `RESET_REQUIRED`...")
    created: str = Field(description="When the user was created (ISO 8601, UTC).")


class StaffList(Model):
    """Every staff user (member of a role group), by email."""

    data: list[StaffMember]


class InviteStaff(Request):
    email: Email
    role: Role


class ChangeRole(Request):
    role: Role


def _username(raw: str) -> str:
    return unquote(raw)


@bp.route("/admin/staff", methods=["GET"])
@documented(StaffList, summary="The staff and their roles", tag=TAG)
def list_staff():
    """From the staff Cognito pool (ListUsersInGroup of each role), not from DynamoDB."""
    require_admin(bp.current_request)
    return StaffList(data=staff_accounts.list_staff()).model_dump(mode="json")


@bp.route("/admin/staff", methods=["POST"])
@documented(StaffMember, status=201, request=InviteStaff, errors=[ResourceExists], summary="Invite a staff user",
            tag=TAG)
def invite_staff():
    """Cognito creates the user and emails a temporary password (status `FORCE_CHANGE_PASSWORD` until the
    first sign-in); a 409 `resource_exists` when a user has this email already."""
    body = admin_body(InviteStaff, bp.current_request)
    return created(StaffMember(**staff_accounts.invite(body.email, body.role)))


@bp.route("/admin/staff/{username}/role", methods=["PUT"])
@documented(StaffMember, request=ChangeRole, errors=[ResourceMissing, LastOwner], summary="Change a staff role",
            tag=TAG)
def change_staff_role(username):
    """The user's role becomes this one (the other role groups are left). The user is signed out: every
    token they hold is refused at once (401 `token_revoked`) and their next sign-in carries the new role. The
    last enabled owner cannot be demoted: a 409 `last_owner`."""
    body = admin_body(ChangeRole, bp.current_request)
    return StaffMember(**staff_accounts.change_role(_username(username), body.role)).model_dump(mode="json")


@bp.route("/admin/staff/{username}/disable", methods=["POST"])
@documented(StaffMember, request=NoBody, errors=[ResourceMissing, LastOwner], summary="Disable a staff user",
            tag=TAG)
def disable_staff(username):
    """The user can no longer sign in and is signed out everywhere (AdminUserGlobalSignOut: refresh and
    access tokens revoked); every token they hold is refused at once on every admin route (401
    `token_revoked`). The last enabled owner cannot be disabled: a 409 `last_owner`. Idempotent."""
    admin_body(NoBody, bp.current_request)
    return StaffMember(**staff_accounts.disable(_username(username))).model_dump(mode="json")


@bp.route("/admin/staff/{username}/enable", methods=["POST"])
@documented(StaffMember, request=NoBody, errors=[ResourceMissing], summary="Enable a staff user", tag=TAG)
def enable_staff(username):
    """Idempotent."""
    admin_body(NoBody, bp.current_request)
    return StaffMember(**staff_accounts.enable(_username(username))).model_dump(mode="json")
