"""The smallest Chalice app that talks to DynamoDB: the cold-start baseline of `make bench`.

It imports Chalice and boto3 and creates a DynamoDB table resource at import, as many Chalice
samples do; `app.py` is compared with it in the same run (bench/shopper.py, `cold_starts`).
"""

import os

import boto3
from chalice import Chalice

app = Chalice(app_name="minimal")
table = boto3.resource("dynamodb").Table(os.environ.get("TABLE_NAME", "minimal"))


@app.route("/items/{item_id}")
def get_item(item_id):
    return table.get_item(Key={"PK": item_id, "SK": item_id}).get("Item") or {}
