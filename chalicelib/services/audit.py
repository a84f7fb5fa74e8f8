"""Reading the audit log (chalicelib/audit.py writes it with each admin write)."""

from chalicelib.repository import audit as audit_log


def page(months: list[str], low: str, high: str, actor: str | None, resource: str | None, limit: int,
         cursor: str | None) -> tuple[list[dict], str | None]:
    """Records from `low` to `high` (days, inclusive), newest first; see repository/audit.py."""
    return audit_log.page(months, low, high, actor, resource, limit, cursor)
