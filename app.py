"""The API function: every HTTP route, registered from the handler blueprints, and the middleware
that renders errors as the `{"error": {...}}` envelope (chalicelib/handlers/rendering.py)."""

from chalice import Chalice, CORSConfig

from chalicelib import config
from chalicelib.handlers import (
    abandoned_carts,
    admin,
    admin_emails,
    admin_imports,
    admin_reports,
    admin_stock,
    audit,
    carts,
    catalog,
    categories,
    checkout,
    companies,
    crm,
    customers,
    discounts,
    docs,
    gift_cards,
    invoices,
    messages,
    orders,
    price_lists,
    queues,
    quotes,
    recommendations,
    rendering,
    reports,
    returns,
    sales,
    schedules,
    search,
    staff_admin,
    webhooks,
)

app = Chalice(app_name="commerce")
if config.settings().cors_allow_origin:
    # Before the blueprints: a route takes app.api.cors when it is registered.
    app.api.cors = CORSConfig(allow_origin=config.settings().cors_allow_origin,
                              allow_headers=["Authorization", "Idempotency-Key", "X-Order-Token", "X-Request-Id"],
                              expose_headers=["Idempotent-Replayed", "X-Request-Id"], max_age=600)
for handlers in (catalog, carts, admin, discounts, checkout, orders, webhooks, docs, queues, schedules, reports,
                 recommendations, abandoned_carts, customers, crm, messages, admin_reports, admin_emails,
                 admin_imports, admin_stock, categories, search, sales, audit, returns, companies, invoices,
                 price_lists, quotes, gift_cards, staff_admin):
    app.register_blueprint(handlers.bp)


@app.middleware("http")
def render_errors(event, get_response):
    return rendering.render(event, get_response, app.api.cors)
