"""Read-and-retry: a use case reads, decides and writes conditioned on what it read; when a racing
writer got there first, it reads again. One helper, one attempt limit."""

import random
import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")
ATTEMPTS = 8


def retried(attempt: Callable[[], T], retry_on: type[Exception] | tuple[type[Exception], ...],
            gave_up: Callable[[], Exception], backoff: float = 0.0) -> T:
    """`attempt()`, run again (up to ATTEMPTS times) while it raises one of `retry_on`; then raises
    `gave_up()`. With `backoff`, waits a jittered `backoff * n` seconds before the n-th retry, so
    racing transactions spread out."""
    for number in range(ATTEMPTS):
        if number and backoff:
            time.sleep(random.uniform(0, backoff * number))
        try:
            return attempt()
        except retry_on:
            continue
    raise gave_up()
