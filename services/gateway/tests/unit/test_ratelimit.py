"""Token buckets with a fake clock."""

from __future__ import annotations

import pytest

from omni_gateway.domain.ratelimit import TokenBuckets, retry_after_seconds


def test_burst_then_refusal_with_the_time_to_wait():
    b = TokenBuckets(rate=2, burst=3)
    assert [b.take("k", 100.0) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert b.take("k", 100.0) == pytest.approx(0.5)  # one token comes back after 1/rate seconds
    assert b.take("k", 100.25) == pytest.approx(0.25)
    assert b.take("k", 100.5) == 0.0
    assert b.take("k", 100.5) > 0


def test_refill_is_capped_at_the_burst():
    b = TokenBuckets(rate=10, burst=2)
    b.take("k", 0.0)
    b.take("k", 0.0)
    allowed = [b.take("k", 1000.0) for _ in range(3)]  # a long idle time gives back 2 tokens, not 10,000
    assert allowed[:2] == [0.0, 0.0] and allowed[2] > 0


def test_keys_are_independent():
    b = TokenBuckets(rate=1, burst=1)
    assert b.take("a", 0.0) == 0.0
    assert b.take("a", 0.0) > 0
    assert b.take("b", 0.0) == 0.0


def test_memory_is_bounded_by_dropping_the_least_recently_used():
    b = TokenBuckets(rate=1, burst=1, max_buckets=2)
    b.take("a", 0.0)
    b.take("b", 0.0)
    b.take("a", 0.0)  # refused, but 'a' is now the most recently used
    b.take("c", 0.0)
    assert len(b) == 2
    assert b.take("a", 0.0) > 0  # 'a' was kept (still empty)
    assert b.take("b", 0.0) == 0.0  # 'b' was forgotten: a fresh bucket


def test_bad_settings_are_refused():
    with pytest.raises(ValueError):
        TokenBuckets(rate=0, burst=10)
    with pytest.raises(ValueError):
        TokenBuckets(rate=1, burst=0)


def test_retry_after_is_whole_seconds_at_least_one():
    assert retry_after_seconds(0.001) == 1
    assert retry_after_seconds(1.0) == 1
    assert retry_after_seconds(1.2) == 2
