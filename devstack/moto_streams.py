"""DynamoDB Streams as DynamoDB keeps them, for the devstack's moto server (part of
devstack/moto_fidelity.py; see there).

DynamoDB keeps a stream record 24 hours, then trims it; moto kept every record for the life of the
process. Here records older than 24 h are trimmed, and, locally, a record the consumer has moved past
(asked for an iterator after it) once it is older than MOTO_STREAM_READ_RETENTION_SECONDS (default
900; the devstack pump is the stream's only consumer, and tools.dlq's replay of a set-aside record
still finds it for that long). Sequence numbers go on as before; an iterator asked for at a trimmed
position is a TrimmedDataAccessException, as in DynamoDB. Shard iterators expire 15 minutes after
they are handed out (ExpiredIteratorException) and are forgotten; moto kept every one it made.
"""

import os
import time

STREAM_RETENTION_SECONDS = 24 * 3600
ITERATOR_LIFETIME_SECONDS = 15 * 60


def read_retention_seconds() -> float:
    return float(os.environ.get("MOTO_STREAM_READ_RETENTION_SECONDS", "900"))


def trimmed_stream(shard_class, stream_models) -> None:
    """Patch moto's stream shard, shard iterators and streams backend (called by moto_fidelity.install)."""
    from moto.core.exceptions import JsonRESTError

    class TrimmedDataAccessException(JsonRESTError):
        def __init__(self):
            super().__init__("TrimmedDataAccessException",
                             "The operation attempted to read past the oldest stream record in a shard.")

    class ExpiredIteratorException(JsonRESTError):
        def __init__(self):
            super().__init__("ExpiredIteratorException", "Iterator expired. The iterator was created over 15 minutes"
                                                         " ago.")

    shard_class.trimmed = 0  # records trimmed from the front: a record's position is seq - start - trimmed
    shard_class.consumed = -1  # the highest sequence number the consumer has moved past
    add, get = shard_class.add, shard_class.get

    def first_sequence_number(shard) -> int:
        return shard.starting_sequence_number + shard.trimmed

    def trim(shard, now: float) -> None:
        keep_read, keep_all = now - read_retention_seconds(), now - STREAM_RETENTION_SECONDS
        first = first_sequence_number(shard)
        cut = 0
        for record in shard.items:
            created = getattr(record, "created", now)
            read = first + cut <= shard.consumed
            if not (created < keep_all or (read and created < keep_read)):
                break
            cut += 1
        if cut:
            del shard.items[:cut]
            shard.trimmed += cut

    def add_record(shard, old, new) -> None:
        # moto numbers a record by its place in the list: count the trimmed ones too.
        items, shard.items = shard.items, _Offset(shard.items, shard.trimmed)
        try:
            add(shard, old, new)
        finally:
            if isinstance(shard.items, _Offset):
                shard.items = items
            else:  # moto emptied the shard (a Lambda event source mapping took the records)
                shard.trimmed += len(items)
        if shard.items:
            shard.items[-1].created = time.time()
        trim(shard, time.time())

    def get_records(shard, start: int, quantity: int):
        if start < first_sequence_number(shard):
            raise TrimmedDataAccessException()
        return get(shard, start - shard.trimmed, quantity)

    shard_class.add, shard_class.get = add_record, get_records

    iterator_class = stream_models.ShardIterator
    make_iterator = iterator_class.__init__

    def new_iterator(iterator, backend, shard, kind, sequence_number=None):
        make_iterator(iterator, backend, shard, kind, sequence_number)
        if kind == "TRIM_HORIZON":
            iterator.sequence_number = first_sequence_number(shard)
        elif kind == "LATEST":
            iterator.sequence_number = first_sequence_number(shard) + len(shard.items)
        iterator.created = time.monotonic()

    iterator_class.__init__ = new_iterator

    backend_class = stream_models.DynamoDBStreamsBackend
    records_of, iterator_of = backend_class.get_records, backend_class.get_shard_iterator

    def get_shard_iterator(backend, arn, shard_id, kind, sequence_number=None):
        """A consumer asking to read after a record has moved past everything before it."""
        shard = backend._get_table_from_arn(arn).stream_shard
        if shard is not None and kind in ("AT_SEQUENCE_NUMBER", "AFTER_SEQUENCE_NUMBER") and sequence_number:
            sequence_number = int(sequence_number)
            shard.consumed = max(shard.consumed, sequence_number - (1 if kind == "AT_SEQUENCE_NUMBER" else 0))
            trim(shard, time.time())
            if sequence_number + (1 if kind == "AFTER_SEQUENCE_NUMBER" else 0) < first_sequence_number(shard):
                raise TrimmedDataAccessException()
        return iterator_of(backend, arn, shard_id, kind, sequence_number)

    def get_records_or_expired(backend, iterator_arn: str, limit: int):
        now = time.monotonic()
        iterator = backend.shard_iterators.get(iterator_arn)
        if iterator is None or now - iterator.created > ITERATOR_LIFETIME_SECONDS:
            backend.shard_iterators.pop(iterator_arn, None)
            raise ExpiredIteratorException()
        # Iterators are kept in the order they were made: drop the expired ones from the front.
        while backend.shard_iterators:
            arn, oldest = next(iter(backend.shard_iterators.items()))
            if now - oldest.created <= ITERATOR_LIFETIME_SECONDS:
                break
            del backend.shard_iterators[arn]
        return records_of(backend, iterator_arn, limit)

    backend_class.get_records = get_records_or_expired
    backend_class.get_shard_iterator = get_shard_iterator


class _Offset(list):
    """A stream shard's record list whose length counts the trimmed records (moto numbers a new
    record `len(items) + start`); everything else is the list itself."""

    def __init__(self, items: list, trimmed: int):
        super().__init__()
        self.items, self.trimmed = items, trimmed

    def __len__(self):
        return len(self.items) + self.trimmed

    def append(self, record) -> None:
        self.items.append(record)

    def __iter__(self):
        return iter(self.items)

    def __getitem__(self, index):
        return self.items[index]

    def __bool__(self):
        return bool(self.items)
