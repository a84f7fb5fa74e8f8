"""DynamoDB access: the only package that knows keys, expressions and boto3.

Access patterns of the single table (keys are `PK`/`SK`; indexes `GSI1`, `GSI2`):

| pattern                        | key or index                                             | function            |
| ------------------------------ | -------------------------------------------------------- | ------------------- |
| product by id                  | PK=PRODUCT#<id>, SK=PRODUCT                              | catalog.get_product |
| active products, oldest first  | GSI1: GSI1PK=PRODUCTS, GSI1SK=<created_at>#<id> (sparse) | catalog.list_active |
| variant price and stock by SKU | PK=SKU#<sku>, SK=SKU                                     | catalog.get_skus    |
| cart by id                     | PK=CART#<id>, SK=CART                                    | carts.get           |

Items that expire carry `expires_at` (epoch seconds), the table's TTL attribute. TTL deletion lags
by up to two days, so reads treat an item past its `expires_at` as gone.
"""
