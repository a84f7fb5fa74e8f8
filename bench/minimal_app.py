"""The floor of `make bench`: the smallest Chalice app that talks to DynamoDB, one GetItem a request.

It imports Chalice and boto3 and creates a DynamoDB table resource at import, as many Chalice
samples do. `make bench` measures it in the same run as the app: between the shoppers, on the same
table (bench/shopper.py, `floor_once`), and in fresh interpreters for the cold start
(bench/cold_start.py).
"""

import os

import boto3
from chalice import Chalice

app = Chalice(app_name="minimal")
table = boto3.resource("dynamodb").Table(os.environ.get("TABLE_NAME", "minimal"))


@app.route("/items/{item_id}")
def get_item(item_id):
    return table.get_item(Key={"PK": item_id, "SK": item_id}).get("Item") or {}
