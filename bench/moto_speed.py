"""Three costs of moto 5.2 that grow with the table and that DynamoDB does not have (bench only).

1. `DynamoDBBackend.transact_write_items` deep-copies every table a transaction names before running
   it, to put the copy back if the transaction is cancelled: measured here 1.6 s at 5,000 order
   items, so at 100,000 items one checkout would take half a minute. `install()` keeps moto's
   transaction logic and swaps only the snapshot: the items the transaction names are copied and
   restored (with the table's stream cut back to where it was) if it is cancelled, the same
   all-or-nothing outcome.
2. `Table.query` starts from `all_items()`, which sorts every item of the table by key (Python
   comparisons of DynamoType objects), and then sorts its matches again by the queried key: 7-9 s
   per Query at 100,000 items. While a query runs, `install()` hands it the items unsorted; the
   query's own sort of its matches gives the same order. It still looks at every item, as moto
   does: that is what remains of moto's growth in the "AWS" column at 100,000 items.
3. Every attribute stored re-adds the sizes of all the item's attributes (moto's 400 KB check in
   `LimitedSizeDict`), quadratic in attributes. `seeding()` skips that check while the bench writes
   its history (items of 1-3 KB).
4. moto parses every request body against the service model, shape by shape: a quarter of the
   seeding time. The bench's BatchWriteItem bodies are ours and hold no binary attributes, so the
   parsed form equals the JSON itself: `seeding()` takes the JSON as it is for BatchWriteItem.

Nothing in `make test` uses this module; the reliability suite runs on moto as it is.
"""

import copy
import threading
from contextlib import contextmanager

_installed = False
_lock = threading.Lock()


class _NoTableCopy:
    """Stands in for the `copy` module in moto's DynamoDB backend while a transaction runs: a table is
    not copied, anything else (update_item's copy of the old image, for the stream) still is."""

    def __init__(self, table_class):
        self.table_class = table_class

    def deepcopy(self, value, memo=None):
        return value if isinstance(value, self.table_class) else copy.deepcopy(value, memo)


def install() -> None:
    global _installed
    with _lock:
        if _installed:
            return
        from moto.dynamodb import models
        from moto.dynamodb.exceptions import (
            MockValidationException,
            MultipleTransactionsException,
            TransactionCanceledException,
        )
        from moto.dynamodb.models.dynamo_type import DynamoType
        from moto.dynamodb.models.table import Table

        original = models.DynamoDBBackend.transact_write_items

        def transact_write_items(self, transact_items):
            saved = []
            streams = {}
            for action in transact_items:
                kind, body = next(iter(action.items()))
                table = self.tables.get(body.get("TableName"))
                if table is None:
                    continue
                source = body["Item"] if kind == "Put" else body["Key"]
                try:
                    hash_key = DynamoType(source[table.hash_key_attr])
                    range_key = DynamoType(source[table.range_key_attr]) if table.range_key_attr else None
                except KeyError:
                    continue  # moto raises the validation error itself
                saved.append((table, hash_key, range_key, copy.deepcopy(table.get_item(hash_key, range_key))))
                if table.stream_shard is not None:
                    streams[id(table)] = (table, len(table.stream_shard.items))
            models.copy = _NoTableCopy(Table)
            try:
                return original(self, transact_items)
            except (TransactionCanceledException, MultipleTransactionsException, MockValidationException):
                for table, hash_key, range_key, item in reversed(saved):
                    _restore(table, hash_key, range_key, item)
                for table, length in streams.values():
                    del table.stream_shard.items[length:]
                raise
            finally:
                models.copy = copy

        models.DynamoDBBackend.transact_write_items = transact_write_items
        _unsorted_query(Table)
        _installed = True


def _unsorted_query(table_class) -> None:
    sorted_all_items = table_class.all_items
    query = table_class.query
    querying = threading.local()

    def all_items(self):
        if not getattr(querying, "active", False):
            return sorted_all_items(self)
        items = []
        for hash_set in self.items.values():
            if self.range_key_attr:
                items.extend(hash_set.values())
            else:
                items.append(hash_set)
        return items

    def unsorted_query(self, *args, **kwargs):
        querying.active = True
        try:
            return query(self, *args, **kwargs)
        finally:
            querying.active = False

    table_class.all_items = all_items
    table_class.query = unsorted_query


@contextmanager
def seeding():
    """Inside the block moto skips its 400 KB item-size check on every attribute it stores and takes
    BatchWriteItem bodies as sent (points 3 and 4 above)."""
    import json

    from moto.dynamodb.models.dynamo_type import LimitedSizeDict
    from moto.dynamodb.responses import DynamoHandler

    checked = LimitedSizeDict.__setitem__
    parse = DynamoHandler.parse_parameters

    def batch_writes_as_sent(self, request):
        if self._get_action() != "BatchWriteItem":
            return parse(self, request)
        self.params = json.loads(request.data)

    LimitedSizeDict.__setitem__ = dict.__setitem__
    DynamoHandler.parse_parameters = batch_writes_as_sent
    try:
        yield
    finally:
        LimitedSizeDict.__setitem__ = checked
        DynamoHandler.parse_parameters = parse


def _restore(table, hash_key, range_key, item) -> None:
    if range_key is None:
        if item is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = item
        return
    partition = table.items.setdefault(hash_key, {})
    if item is None:
        partition.pop(range_key, None)
        if not partition:
            table.items.pop(hash_key, None)
    else:
        partition[range_key] = item
