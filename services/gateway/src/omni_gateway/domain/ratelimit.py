"""In-memory token buckets, one per key (an API key's name, a webhook's shop). The clock is passed in.

Each bucket holds up to `burst` tokens and gains `rate` tokens per second; a request takes one token.
Memory is bounded: past `max_buckets` keys, the least recently used bucket is dropped (after the idle time
it has most likely refilled, so forgetting it changes nothing; at worst its key gets a fresh burst).
"""

from __future__ import annotations

import math
from collections import OrderedDict


class TokenBuckets:
    def __init__(self, rate: float, burst: float, max_buckets: int = 100_000) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError(f"rate must be > 0 and burst >= 1 (got rate={rate}, burst={burst})")
        self.rate = float(rate)
        self.burst = float(burst)
        self.max_buckets = max_buckets
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key -> (tokens, at)

    def __len__(self) -> int:
        return len(self._buckets)

    def take(self, key: str, now: float) -> float:
        """Take one token for `key` at time `now` (seconds). 0.0 when allowed, else the seconds to wait."""
        tokens, at = self._buckets.pop(key, (self.burst, now))
        tokens = min(self.burst, tokens + max(0.0, now - at) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            self._trim()
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate

    def _trim(self) -> None:
        while len(self._buckets) > self.max_buckets:
            self._buckets.popitem(last=False)


def retry_after_seconds(wait: float) -> int:
    """The Retry-After header value (whole seconds, at least 1)."""
    return max(1, math.ceil(wait))
