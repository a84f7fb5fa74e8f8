"""Who may do what on the admin API: the ONE place that names each admin route's permission and each
staff role's permissions.

A route's permission is looked up from its method and route template (`"POST /admin/orders/{order_id}/refunds"`)
by `require_admin` (chalicelib/handlers/common.py), so a handler declares nothing beyond calling it.
A route missing from ROUTES gets DEFAULT ("admin"), which only the owner and a manager hold: a new
admin route is safe before anyone declares it, and tests/test_permissions.py fails until it is declared.

Staff sign in with Cognito and belong to one or more groups named after ROLES; integrations use an admin
API key, each with its own scopes (permission names, or "*"), see chalicelib/staff.py.
"""

from dataclasses import dataclass, field

DEFAULT = "admin"
ALL = "*"

# Every admin route's permission, by "METHOD /route/template".
ROUTES: dict[str, str] = {
    # Orders
    "GET /admin/orders": "orders:read",
    "GET /admin/orders/{order_id}": "orders:read",
    "GET /admin/orders/{order_id}/emails": "orders:read",
    "POST /admin/orders/{order_id}/shipments": "orders:ship",
    "POST /admin/orders/{order_id}/refunds": "orders:refund",
    "POST /admin/orders/{order_id}/cancel": "orders:cancel",
    "POST /admin/orders/{order_id}/confirmation-email": "orders:email",
    # Customer messages
    "GET /admin/messages": "messages:read",
    "GET /admin/orders/{order_id}/messages": "messages:read",
    "POST /admin/orders/{order_id}/messages": "messages:reply",
    "POST /admin/orders/{order_id}/messages/close": "messages:reply",
    # Customers
    "GET /admin/customers": "customers:read",
    "GET /admin/customers/{customer_id}": "customers:read",
    "PATCH /admin/customers/{customer_id}": "customers:write",
    "POST /admin/customers/{customer_id}/credit": "customers:credit",
    "GET /admin/segments": "customers:read",
    "GET /admin/segments/{segment_id}/customers.csv": "customers:read",
    # Catalogue
    "GET /admin/products": "products:read",
    "GET /admin/products/export": "products:read",
    "POST /admin/products": "products:write",
    "PUT /admin/products/{product_id}": "products:write",
    "POST /admin/products/import": "products:write",
    "POST /admin/products/{product_id}/images": "products:write",
    "POST /admin/categories": "products:write",
    "POST /admin/collections": "products:write",
    # Stock
    "GET /admin/inventory": "stock:read",
    "GET /admin/inventory/{sku}/ledger": "stock:read",
    "PUT /admin/inventory/{sku}": "stock:write",
    "POST /admin/inventory/{sku}/adjustments": "stock:write",
    # Returns: support decides, fulfilment receives the goods, settling (money back) is a manager's
    "GET /admin/returns": "returns:read",
    "POST /admin/returns/{return_id}/approve": "returns:decide",
    "POST /admin/returns/{return_id}/reject": "returns:decide",
    "POST /admin/returns/{return_id}/receive": "returns:receive",
    "POST /admin/returns/{return_id}/refund": "returns:refund",
    # Sales (scheduled prices): changing prices is not support's nor fulfilment's
    "GET /admin/sales": "sales:read",
    "POST /admin/sales": "sales:write",
    # Gift cards: support looks cards up; issuing and disabling is money
    "GET /admin/gift-cards": "giftcards:read",
    "GET /admin/gift-cards/{gift_card_id}": "giftcards:read",
    "POST /admin/gift-cards": "giftcards:write",
    "POST /admin/gift-cards/{gift_card_id}/disable": "giftcards:write",
    # Discounts
    "GET /admin/discounts": "discounts:read",
    "POST /admin/discounts": "discounts:write",
    "POST /admin/discounts/{code}/disable": "discounts:write",
    # Reports (the dashboard every role lands on)
    "GET /admin/reports/sales": "reports:read",
    "GET /admin/reports/funnel": "reports:read",
    # B2B: companies and their price lists (terms, credit, prices: a manager's), quotes (prices: a manager's)
    # and invoices (marking one paid frees credit: a manager's)
    "GET /admin/companies": "companies:read",
    "GET /admin/companies/{company_id}": "companies:read",
    "POST /admin/companies": "companies:write",
    "PATCH /admin/companies/{company_id}": "companies:write",
    "POST /admin/companies/{company_id}/buyers": "companies:write",
    "GET /admin/price-lists": "companies:read",
    "GET /admin/price-lists/{price_list_id}": "companies:read",
    "POST /admin/price-lists": "companies:write",
    "PUT /admin/price-lists/{price_list_id}": "companies:write",
    "POST /admin/price-lists/{price_list_id}/import": "companies:write",
    "GET /admin/quotes": "quotes:read",
    "POST /admin/quotes/{quote_id}/answer": "quotes:write",
    "GET /admin/invoices": "invoices:read",
    "GET /admin/invoices/{invoice_id}": "invoices:read",
    "POST /admin/invoices/{invoice_id}/paid": "invoices:write",
    # Audit log
    "GET /admin/audit": "audit:read",
    "GET /admin/audit.csv": "audit:read",
    # Staff accounts (the staff Cognito pool): the owner's only
    "GET /admin/staff": "staff:manage",
    "POST /admin/staff": "staff:manage",
    "PUT /admin/staff/{username}/role": "staff:manage",
    "POST /admin/staff/{username}/disable": "staff:manage",
    "POST /admin/staff/{username}/enable": "staff:manage",
}

_READS = {"orders:read", "messages:read", "customers:read", "products:read", "stock:read", "discounts:read",
          "reports:read", "returns:read", "sales:read", "companies:read", "quotes:read", "invoices:read",
          "giftcards:read"}
_OWNER_ONLY = {"audit:read", "staff:manage"}
EVERY = frozenset(set(ROUTES.values()) | {DEFAULT} | _OWNER_ONLY)

# Each staff role's permissions (a Cognito group of the same name).
ROLES: dict[str, frozenset[str]] = {
    "owner": EVERY,
    "manager": EVERY - _OWNER_ONLY,
    "support": frozenset(_READS | {"orders:refund", "orders:email", "messages:reply", "returns:decide"}),
    "fulfilment": frozenset({"orders:read", "orders:ship", "stock:read", "stock:write", "products:read",
                             "reports:read", "returns:read", "returns:receive"}),
}
# Roles whose refunds are capped by SUPPORT_REFUND_LIMIT (minor units of the order's currency, per currency).
LIMITED_REFUNDS = {"support"}


def for_route(method: str, route: str) -> str:
    """The permission of `METHOD route` (DEFAULT when the route has not declared one)."""
    return ROUTES.get(f"{method.upper()} {route}", DEFAULT)


@dataclass(frozen=True)
class Principal:
    """Who called an admin route: a staff member (by role) or an API key (by scopes)."""

    actor: str                       # "staff:<email>" or "key:<name>"
    permissions: frozenset[str]
    roles: tuple[str, ...] = ()
    # Minor units per currency ("*": any other; a currency absent without "*": none); None: no cap.
    refund_limits: dict[str, int] | None = field(default=None, hash=False)

    def may(self, permission: str) -> bool:
        return ALL in self.permissions or permission in self.permissions

    @property
    def granted(self) -> list[str]:
        """The permissions held, spelled out."""
        return sorted(EVERY if ALL in self.permissions else self.permissions)


def staff(actor: str, groups: list[str], support_refund_limits: dict[str, int]) -> Principal | None:
    """A staff principal from Cognito groups (unknown groups ignored); None if no group is a role."""
    roles = tuple(role for role in ROLES if role in groups)
    if not roles:
        return None
    permissions = frozenset().union(*(ROLES[role] for role in roles))
    unlimited = any("orders:refund" in ROLES[role] and role not in LIMITED_REFUNDS for role in roles)
    return Principal(actor=actor, permissions=permissions, roles=roles,
                     refund_limits=None if unlimited else support_refund_limits)
