"""DynamoDB access: the only package that knows keys, expressions and boto3.

Every access pattern of the single table (keys are `PK`/`SK`; indexes `GSI1`, `GSI2` with
`GSI1PK`/`GSI1SK`...), with the function that serves it. tests/test_access_patterns.py keeps this
table true: each public function of the repository modules (but the `*_key` shapes) appears in it,
and each function it names exists.

| pattern                        | key or index                                   | function                           |
| ------------------------------ | ---------------------------------------------- | ---------------------------------- |
| product by id                  | PK=PRODUCT#<id>, SK=PRODUCT                    | catalog.get_product                |
| active products, oldest first  | GSI1: PRODUCTS, <created_at>#<id> (sparse)     | catalog.list_active                |
| variant price and stock by SKU | PK=SKU#<sku>, SK=SKU                           | catalog.get_skus                   |
| a hot SKU's stock shards       | BatchGetItem PK=SKU#<sku>, SK=SHARD#<nn>       | catalog.with_shards                |
|                                | (only for SKUs with shards > 1; summed)        |                                    |
| write a product and its SKUs   | transaction: PRODUCT + SKU item per variant    | catalog.save_product               |
|                                | (+ its SHARD#<nn> items when sharded)          |                                    |
| count a SKU's stock            | PK=SKU#<sku>, SK=SKU (conditional update)      | catalog.set_stock                  |
|                                | sharded: transaction SKU + SHARD#<nn> items    |                                    |
| category by slug, create       | PK=CATEGORY#<slug>, SK=CATEGORY                | listings.create_category           |
|                                |                                                | listings.get_categories            |
| collection by slug, create     | PK=COLLECTION#<slug>, SK=COLLECTION            | listings.create_collection         |
|                                |                                                | listings.get_collection            |
| every category (the tree)      | GSI1: CATEGORIES, <slug>                       | listings.all_categories            |
| products by scope and sort     | PK=LIST#<all|category:slug|every|inactive>#    | listings.list_product_ids          |
|                                | <newest|price|title>, SK=<value>#<product id>  |                                    |
| keep listings on product write | pieces of catalog.save_product's transaction   | listings.product_pieces            |
| backfill a product's listings  | transaction: PRODUCT (on updated_at) + LIST#...| listings.relist                    |
| products for maintenance       | GSI1: PRODUCTS; with inactive ones a **Scan**  | catalog.product_items_page         |
|                                | (tools/backfill_listings.py only)              |                                    |
| cart by id                     | PK=CART#<id>, SK=CART                          | carts.get                          |
| write a cart                   | PK=CART#<id>, SK=CART (on its version)         | carts.create                       |
|                                |                                                | carts.save                         |
| what a read of a cart showed   | PK=CART#<id>, SK=CART (on its version, kept)   | carts.stamp_shown                  |
| discount by code               | PK=DISCOUNT#<CODE>, SK=DISCOUNT                | discounts.get                      |
|                                |                                                | discounts.create                   |
| disable a code (it ends now)   | DISCOUNT#<CODE> (conditional update)           | discounts.disable                  |
| discounts, newest first        | GSI1: DISCOUNTS, <created_at>#<id>             | discounts.list_recent              |
| a cart's discount and SKUs     | BatchGetItem DISCOUNT#<CODE> + SKU#<sku>...    | discounts.get_with_skus            |
| count / give back a code's use | DISCOUNT#<CODE> + PK=DISCOUNT#<CODE>,          | discounts.redeem                   |
|                                |                                                | discounts.give_back                |
|                                |                                                | discounts.customer_hash            |
|                                | SK=USE#<customer_hash(email)>; pieces of       |                                    |
|                                | orders.place and orders.save                   |                                    |
| order by id                    | PK=ORDER#<id>, SK=ORDER                        | orders.get                         |
| place an order (checkout)      | transaction: ORDER + SKU#... + DISCOUNT...     | orders.place                       |
|                                | + CART (on its version)                        |                                    |
| move an order on               | transaction: ORDER (on its version) + SKU#...  | orders.save                        |
|                                | + DISCOUNT... + PK=EVENT#<provider>#<id>       |                                    |
| a provider event applied once  | PK=EVENT#<provider>#<id>, SK=EVENT (30 days)   | orders.event_seen                  |
| an order's payment             | PK=ORDER#<id>, SK=ORDER (update)               | orders.attach_payment              |
| hand to fulfilment once        | PK=ORDER#<id>, SK=ORDER (conditional update)   | orders.mark_fulfilment_requested   |
| gift cards only: done, issued  | PK=ORDER#<id>, SK=ORDER (cond. update) | orders.mark_delivered_without_shipping |
| orders, newest first           | GSI2: ORDERS, <created_at>#<id>                | orders.list_recent                 |
| orders by status, newest first | GSI1: ORDERS#<status>, <created_at>#<id>       | orders.list_recent                 |
| unpaid orders created before   | GSI1: ORDERS#pending_payment, SK < cutoff      | orders.each_pending_created_before |
| which of these orders exist    | BatchGetItem ORDER#<id>/ORDER (PK, payment ids) | orders.payments_of                |
| orphan payments sweep position | PK=SWEEP#orphan_payments, SK=SWEEP             | orders.orphan_sweep_position       |
|                                | (conditional on its version)                   | orders.save_orphan_sweep_position  |
| order of a cart                | CART#<id>: its `order_id`, then ORDER#<id>     | carts.get                          |
|                                |                                                | orders.get                         |
| a return by id                 | PK=RETURN#<id>, SK=RETURN                      | returns.get                        |
| create a return                | transaction: RETURN + ORDER (returned counts,  | returns.create                     |
|                                | conditional per SKU)                           |                                    |
| move a return on               | transaction: RETURN (on its version) + ORDER   | returns.save                       |
|                                | (return_status)                                |                                    |
| receive a return (restock)     | transaction: RETURN + ORDER + SKU#... (on      | returns.receive                    |
|                                | on_hand) + LEDGER#<sku> entries                |                                    |
| settle a return as an exchange | orders.place with RETURN (on its version)      | returns.settle_as_order            |
| return numbers by year         | PK=COUNTER#RETURNS#<year>, SK=COUNTER (ADD)    | returns.next_number                |
| returns by status, oldest first| GSI1: RETURNS#<status>, <created_at>#<id>      | returns.list_by_status             |
| an order's returns             | GSI2: RETURNS_OF#<order id>, <created_at>#<id> | returns.list_for_order             |
| idempotency record by scope    | PK=IDEMPOTENCY#<scope hash>, SK=IDEMPOTENCY    | idempotency.claim                  |
|                                |                                                | idempotency.get                    |
|                                |                                                | idempotency.complete               |
|                                |                                                | idempotency.release                |
| a delivery (email...) once     | PK=SENT#<channel>#<event id>, SK=SENT          | deliveries.once                    |
|                                |                                                | deliveries.get                     |
|                                |                                                | deliveries.claim                   |
|                                |                                                | deliveries.complete                |
|                                |                                                | deliveries.release                 |
| an order's emails, oldest first| GSI1: ORDER_EMAILS#<order id>, <sent>#<event>  | deliveries.order_emails            |
|                                | (set on the delivery record when completed)    | deliveries.order_email             |
| audit record of an admin write | PK=AUDIT#<yyyy-mm>, SK=<at µs>Z#<aud id>, one  | audited.call                       |
|                                | more item of the write's own transaction       |                                    |
| audit record of a change made  | PutItem of the record alone, right after the   | audit.write_alone                  |
| outside DynamoDB (staff users) | Cognito calls succeeded (one transaction with  |                                    |
|                                | STAFF#<sub> when it revokes the user's tokens) |                                    |
| staff tokens refused before    | PK=STAFF#<sub>, SK=TOKENS (consistent GetItem; | staff.tokens_not_before            |
| (on each staff-token request)  | only admin requests made with a staff token)   |                                    |
| refuse a staff user's tokens   | PK=STAFF#<sub>, SK=TOKENS (update, never back; | staff.revoke_tokens                |
|                                | in the audit record's transaction)             |                                    |
| audit log, newest first        | Query AUDIT#<month> per month, SK between days | audit.page                         |
|                                | (filters: actor, resource prefix)              |                                    |
| stream images as models        | the `SK` of the item says which model          | stream.change                      |
|                                |                                                | stream.images                      |

Customers (accounts and their own data; repository/customers.py):

| pattern                        | key or index                                   | function                           |
| ------------------------------ | ---------------------------------------------- | ---------------------------------- |
| a customer's profile           | PK=CUSTOMER#<cus id>, SK=PROFILE               | customers.get_profile              |
|                                |                                                | customers.save_profile             |
|                                |                                                | customers.marketing_consent        |
| consent: unsubscribe, guest    | PK=CUSTOMER#<cus id>, SK=PROFILE (conditional) | customers.set_consent              |
|                                |                                                | customers.grant_consent_once       |
| the address book               | Query CUSTOMER#<cus id>, SK begins ADDRESS#    | customers.list_addresses           |
| one saved address              | PK=CUSTOMER#<cus id>, SK=ADDRESS#<adr id>      | customers.get_address              |
|                                |                                                | customers.save_address             |
|                                |                                                | customers.delete_address           |
| all held about a customer      | Query PK=CUSTOMER#<cus id> (every SK)          | customers.everything               |
|                                |                                                | customers.erase                    |
| the account's cart             | CUSTOMER#<cus id>, ACCOUNT_CART (conditional)  | customers.open_cart                |
|                                |                                                | customers.point_to_cart            |
| merge a guest cart             | transaction: CART#<account> + CART#<guest>     | carts.merge                        |
| a customer's orders, newest    | GSI3: CUSTOMER#<cus id>, <created_at>#<id>     | orders.list_by_customer            |

Growth features (sales report, recommendations, abandoned carts; see each module's docstring):

| pattern                        | key or index                                   | function                           |
| ------------------------------ | ---------------------------------------------- | ---------------------------------- |
| carts idle in an hour          | GSI2: IDLE#<YYYY-MM-DDTHH>, <updated_at>#<id>  | carts.list_idle                    |
|                                |                                                | carts.idle_hour                    |
| remind a cart once             | PK=CART#<id>, SK=CART (conditional update)     | carts.mark_reminded                |
| mark a cart recovered          | PK=CART#<id>, SK=CART (conditional update)     | carts.mark_recovered               |
| sweep position                 | PK=SWEEP#abandoned_carts, SK=SWEEP             | carts.sweep_position               |
|                                |                                                | carts.save_sweep_position          |
| product + bought with          | Query PRODUCT#<id>: PRODUCT, BOUGHTWITH#...    | recommendations.bought_with        |
| products by ids                | BatchGetItem PK=PRODUCT#<id>, SK=PRODUCT       | recommendations.get_products       |
| newest active products         | GSI1: PRODUCTS, newest first                   | recommendations.newest_active      |
| sales counters of a month      | REPORT#<cur>#<YYYY-MM>, DAY#<dd>[#PRODUCT#..]  | reports.read_days                  |
| count a change once            | transaction: ADDs + Put PK=APPLIED#<marker>    | reports.apply                      |
| adjust stock + ledger entry    | transaction: SKU#<sku> (on on_hand) + Put      | ledger.adjust                      |
|                                | PK=LEDGER#<sku>, SK=ENTRY#<at>#<id>            |                                    |
| a SKU's ledger, newest first   | Query PK=LEDGER#<sku>, descending              | ledger.entries                     |

Customers (CRM) and customer service (repository/crm.py, repository/messages.py):

| pattern                        | key or index                                   | function                           |
| ------------------------------ | ---------------------------------------------- | ---------------------------------- |
| a customer's figures           | PK=CUSTOMER#<cus_id>, SK=STATS                 | crm.get                            |
| figures of many customers      | BatchGetItem CUSTOMER#<cus_id>/STATS           | crm.get_many                       |
| write figures once per change  | transaction: STATS (on its version) + APPLIED# | crm.save                           |
|                                | + SEGMENTS counts + SEGMENT#, LAST_ORDER_DAY#, |                                    |
|                                | PAID_ORDER# index items + win-back DISCOUNT#   |                                    |
| forget a customer (erasure)    | transaction: STATS (on its version), SEGMENT#, | crm.forget                         |
|                                | LAST_ORDER_DAY# deleted, SEGMENTS count -1     |                                    |
| the shop's tags and note       | PK=CUSTOMER#<cus_id>, SK=STATS (update)        | crm.annotate                       |
| customers, newest first        | GSI1: CUSTOMERS, <created_at>#<cus_id>         | crm.list_customers                 |
| customers by last order        | GSI2: CUSTOMERS#LAST_ORDER, <last_order_at>#.. | crm.list_customers                 |
| a segment's customers          | PK=SEGMENT#<segment>, then BatchGetItem STATS  | crm.list_segment                   |
| customers per segment          | PK=SEGMENTS, SK=SEGMENT#<segment>              | crm.segment_counts                 |
| a customer's paid orders       | PK=CUSTOMER#<id>, SK=PAID_ORDER#.., then ORDER | crm.paid_orders                    |
| last order placed on a day     | PK=LAST_ORDER_DAY#<YYYY-MM-DD>, SK=<cus_id>    | crm.last_ordered_on                |
| marketing consent              | PK=CUSTOMER#<cus_id>, SK=PROFILE (accounts')   | crm.consents                       |
| sweep position                 | PK=SWEEP#customers, SK=SWEEP                   | crm.sweep_position                 |
|                                |                                                | crm.save_sweep_position            |
| an order's thread              | PK=ORDER#<id>, SK=THREAD                       | messages.get_thread                |
| write a message and its thread | transaction: MESSAGE# or NOTE# + THREAD (ver.) | messages.add                       |
| close a thread                 | PK=ORDER#<id>, SK=THREAD (on its version)      | messages.save_thread               |
| an order's messages            | Query ORDER#<id>, SK begins_with MESSAGE#      | messages.list_messages             |
|                                | (the shop: MESSAGE#..NOTE#~)                   |                                    |
| threads by status, oldest open | GSI1: THREADS#<status>, <since>#<order_id>     | messages.list_threads              |

Store credit and gift cards (repository/store_credit.py, repository/gift_cards.py):

| pattern                        | key or index                                   | function                           |
| ------------------------------ | ---------------------------------------------- | ---------------------------------- |
| credit balance per currency    | PK=CUSTOMER#<cus id>, SK=CREDIT#<CUR>          | store_credit.balances              |
|                                | (Query begins_with; many: BatchGetItem)        | store_credit.balances_of           |
| change credit once per source  | transaction: CREDIT#<CUR> (ADD, >= on spend)   | store_credit.change                |
|                                | + Put SK=CREDITLOG#<source id> (if absent)     | store_credit.change_pieces         |
| a customer's credit ledger     | Query CUSTOMER#<cus id>, begins CREDITLOG#     | store_credit.entries               |
| gift card by id (= code hash)  | PK=GIFTCARD#<gc id>, SK=GIFTCARD               | gift_cards.get                     |
|                                | (many: BatchGetItem)                           | gift_cards.get_many                |
| issue a card once              | transaction: GIFTCARD + LEDGER#issue (absent)  | gift_cards.issue                   |
|                                | + ConditionCheck ORDER# (still paid)           | orders.still_issuing               |
| a card and its ledger          | Query PK=GIFTCARD#<gc id> (every SK)           | gift_cards.with_ledger             |
| spend / give back (checkout,   | GIFTCARD (balance >= on spend) + Put           | gift_cards.spend_pieces            |
| cancel, refund)                | SK=LEDGER#<source>; pieces of orders.place and | gift_cards.give_back_pieces        |
|                                | orders.save                                    | gift_cards.failed_card             |
| disable a card                 | transaction: GIFTCARD (version) + LEDGER#disable| gift_cards.disable                |
| void a cancelled order's cards | GIFTCARD (balance = initial, not disabled) +   | gift_cards.void_pieces             |
|                                | LEDGER#void; ConditionCheck GIFTCARD absent;   | gift_cards.absent_piece            |
|                                | pieces of orders.save                          |                                    |
| cards, newest first            | GSI1: GIFTCARDS, <created_at>#<gc id>          | gift_cards.list_recent             |
| cards to send in an hour       | GSI2: GIFTSEND#<YYYY-MM-DDTHH> (sparse)        | gift_cards.due_in                  |
| release a card's email         | PK=GIFTCARD#<gc id> (conditional update)       | gift_cards.release                 |
| balance lookups per address    | PK=LOOKUPS#<ip>#<minute>, SK=LOOKUPS (ADD, TTL)| gift_cards.count_lookup            |

Derived views of the catalogue (search index, channel feeds; repository/catalogue_views.py):

| pattern                        | key or index                                   | function                           |
| ------------------------------ | ---------------------------------------------- | ---------------------------------- |
| every active product + SKUs    | GSI1: PRODUCTS (pages of 500) + BatchGetItem   | catalogue_views.each_product       |
| views stale / built            | PK=VIEWS#catalogue, SK=VIEWS (ADD, conditional)| catalogue_views.mark_stale         |
|                                |                                                | catalogue_views.staleness          |
|                                |                                                | catalogue_views.mark_built         |
| a stream record changes a view | the `SK` of the image (PRODUCT, SKU)           | catalogue_views.changes_views      |
| a view's bytes (S3, not table) | <VIEWS_BUCKET>/search/..., feeds/...           | catalogue_views.put_object         |
|                                |                                                | catalogue_views.get_object         |
|                                |                                                | catalogue_views.head_object        |
|                                |                                                | catalogue_views.object_url         |

B2B companies, price lists and purchase requests (repository/companies.py, repository/purchase_requests.py):

| pattern                        | key or index                                   | function                           |
| ------------------------------ | ---------------------------------------------- | ---------------------------------- |
| a company                      | PK=COMPANY#<co id>, SK=COMPANY                 | companies.get                      |
|                                |                                                | companies.save                     |
| companies, newest first        | GSI1: COMPANIES, <created_at>#<co id>          | companies.list_recent              |
| a customer's membership        | PK=CUSTOMER#<cus id>, SK=COMPANY               | companies.membership               |
| add a buyer                    | transaction: membership (conditional) +        | companies.add_buyer                |
|                                | PK=COMPANY#<co id>, SK=BUYER#<cus id>          |                                    |
| a company's buyers             | Query COMPANY#<co id>, SK begins_with BUYER#   | companies.buyers                   |
| forget a buyer (erasure)       | transaction: delete membership + BUYER#        | companies.forget_buyer             |
| a price list                   | PK=PRICE_LIST#<pl id>, SK=PRICE_LIST           | companies.get_price_list           |
| price lists, newest first      | GSI1: PRICE_LISTS, <created_at>#<pl id>        | companies.list_price_lists         |
| write a list + company copies  | PRICE_LIST# + COMPANY#<co id>/PRICES#<cur>     | companies.save_price_list          |
|                                | (conditional on holder and version)            |                                    |
| who holds a company's currency | BatchGetItem COMPANY#<co id>/PRICES#<cur>      | companies.price_list_holders       |
| price an account's cart        | BatchGetItem SKU#.., DISCOUNT#, CUSTOMER#/     | companies.pricing_batch            |
|                                | COMPANY and /STATS; then COMPANY + PRICES#<cur>|                                    |
|                                | (a buyer) or CUSTOMER_GROUP#<segment>/PRICES#  |                                    |
| a company's orders, newest     | GSI4: COMPANY#<co id>, <created_at>#<id>       | orders.list_by_company             |
| a purchase request             | PK=COMPANY#<co id>, SK=PURCHASE_REQUEST#<id>   | purchase_requests.get              |
| open one (idempotent)          | Put attribute_not_exists(PK)                   | purchase_requests.open_request     |
| decide one                     | Put on its version                             | purchase_requests.save             |
| a company's requests, newest   | GSI1: COMPANY#<co id>#PURCHASE_REQUESTS, ..    | purchase_requests.list_recent      |

B2B invoices and quotes (repository/invoices.py, repository/quotes.py, repository/documents.py):

| pattern                        | key or index                                   | function                           |
| ------------------------------ | ---------------------------------------------- | ---------------------------------- |
| invoice by id                  | PK=INVOICE#<inv id>, SK=INVOICE                | invoices.get                       |
| the year's last number         | PK=INVOICE_NUMBERS, SK=<year>                  | invoices.last_number               |
| a company's open credit        | PK=CREDIT#<co id>, SK=<currency>               | invoices.open_credit               |
| issue with its order           | pieces of orders.place: INVOICE# + counter     | invoices.issue                     |
|                                | (on the number read) + CREDIT# (within limit)  |                                    |
| mark paid, free the credit     | transaction: INVOICE# (on its version) +       | invoices.settle                    |
|                                | CREDIT# - total + ORDER# payment_status        |                                    |
| note a reminder                | PK=INVOICE#<id>, SK=INVOICE (on its version)   | invoices.record_reminder           |
| void (its order cancelled)     | transaction: INVOICE# (on its version) +       | invoices.void                      |
|                                | CREDIT# - total                                |                                    |
| invoice by number (transfers)  | GSI3: INVOICE_NUMBER#<number> (Limit 1)        | invoices.find_by_number            |
| open invoices due before       | GSI2: INVOICES#open, SK < <cutoff>             | invoices.each_open_due_before      |
| invoices by status             | GSI2: INVOICES#<status>, <due_at>#<id>         | invoices.list_by_status            |
| a company's overdue invoice    | GSI1: COMPANY_INVOICES#<co id>#open, SK <      | invoices.has_open_due_before       |
|                                | <cutoff> (Limit 1)                             |                                    |
| an invoice PDF (S3)            | <DOCUMENTS_BUCKET>/invoices/<year>/<number>-.. | documents.store                    |
|                                |                                                | documents.exists                   |
|                                |                                                | documents.fetch                    |
|                                |                                                | documents.link                     |
| quote by id                    | PK=QUOTE#<quo id>, SK=QUOTE                    | quotes.get                         |
|                                |                                                | quotes.create                      |
| answer a quote                 | PK=QUOTE#<quo id>, SK=QUOTE (on its version)   | quotes.save                        |
| accept a quote (checkout)      | a piece of orders.place (answered, unexpired)  | quotes.accept                      |
| quotes by status (inbox)       | GSI1: QUOTES#<status>, <created_at>#<id>       | quotes.list_by_status              |

Sales, price history and product images (repository/sales.py, prices.py, images.py):

| pattern                        | key or index                                   | function                           |
| ------------------------------ | ---------------------------------------------- | ---------------------------------- |
| sale by id, create             | PK=SALE#<id>, SK=SALE                          | sales.create                       |
|                                |                                                | sales.get                          |
| sales, newest first            | GSI2: SALES, <created_at>#<id>                 | sales.list_recent                  |
| sales due to start / to end    | GSI1: SALES#starts / SALES#ends, <time>#<id>   | sales.due                          |
|                                | (sparse: an ended sale is in neither)          |                                    |
| move a sale on (its status)    | PK=SALE#<id>, SK=SALE (conditional update)     | sales.fix_targets                  |
|                                |                                                | sales.mark_started                 |
|                                |                                                | sales.mark_ended                   |
| a SKU's price history          | Query PK=PRICES#<sku>, SK <= <at>, descending  | prices.history                     |
| record a price change          | PK=PRICES#<sku>, SK=<at>#<reason>[#<ref>]      | prices.history_piece               |
|                                | (a piece of the transaction changing it)       |                                    |
| lower / restore a SKU's prices | transaction: SKU#<sku> (on price_version) +    | prices.reprice                     |
|                                | SHARD#<nn> copies + PRICES#<sku> entry         |                                    |
| add an image to a product      | PK=PRODUCT#<id>, SK=PRODUCT (list_append)      | images.add_image                   |
| an image's upload URL          | S3 presigned PUT <IMAGES_BUCKET>/products/...  | images.upload_url                  |

Items that expire carry `expires_at` (epoch seconds), the table's TTL attribute. TTL deletion lags
by up to two days, so reads treat an item past its `expires_at` as gone.
"""
