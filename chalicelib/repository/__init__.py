"""DynamoDB access: the only package that knows keys, expressions and boto3.

Access patterns of the single table (keys are `PK`/`SK`; indexes `GSI1`, `GSI2`):

| pattern                        | key or index                                             | function            |
| ------------------------------ | -------------------------------------------------------- | ------------------- |
| product by id                  | PK=PRODUCT#<id>, SK=PRODUCT                              | catalog.get_product |
| active products, oldest first  | GSI1: GSI1PK=PRODUCTS, GSI1SK=<created_at>#<id> (sparse) | catalog.list_active |
| variant price and stock by SKU | PK=SKU#<sku>, SK=SKU                                     | catalog.get_skus    |
| cart by id                     | PK=CART#<id>, SK=CART                                    | carts.get           |

Growth features (sales report, recommendations, abandoned carts; see each module's docstring):

| pattern                   | key or index                                           | function                      |
| ------------------------- | ------------------------------------------------------ | ----------------------------- |
| carts idle in an hour     | GSI2: IDLE#<YYYY-MM-DDTHH>, <updated_at>#<id> (sparse) | carts.list_idle               |
| remind a cart once        | PK=CART#<id>, SK=CART (conditional update)             | carts.mark_reminded           |
| mark a cart recovered     | PK=CART#<id>, SK=CART (conditional update)             | carts.mark_recovered          |
| sweep position            | PK=SWEEP#abandoned_carts, SK=SWEEP                     | carts.sweep_position          |
| product + bought with     | Query PK=PRODUCT#<id>: PRODUCT, BOUGHTWITH#<other>     | recommendations.bought_with   |
| products by ids           | BatchGetItem PK=PRODUCT#<id>, SK=PRODUCT               | recommendations.get_products  |
| newest active products    | GSI1: GSI1PK=PRODUCTS, newest first                    | recommendations.newest_active |
| sales counters of a month | PK=REPORT#<cur>#<YYYY-MM>, SK=DAY#<dd>[#PRODUCT#<id>]  | reports.read_days             |
| count a change once       | transaction: ADDs + Put PK=APPLIED#<marker>            | reports.apply                 |

Items that expire carry `expires_at` (epoch seconds), the table's TTL attribute. TTL deletion lags
by up to two days, so reads treat an item past its `expires_at` as gone.
"""
