"""Order ids: "O" + 20 hex chars, sortable by creation time.

16 hex digits of the nanosecond timestamp (strictly increasing within a process) + 4 random hex digits
(so that two processes creating an order in the same nanosecond still differ).
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable


class OrderIdFactory:
    def __init__(
        self, clock_ns: Callable[[], int] = time.time_ns, rand: Callable[[], int] | None = None
    ) -> None:
        self._clock_ns = clock_ns
        self._rand = rand or (lambda: secrets.randbits(16))
        self._last = 0
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            now = max(self._clock_ns(), self._last + 1)
            self._last = now
        return f"O{now:016x}{self._rand():04x}"


new_order_id = OrderIdFactory()


def is_order_id(value: str) -> bool:
    return len(value) == 21 and value[0] == "O" and all(c in "0123456789abcdef" for c in value[1:])
