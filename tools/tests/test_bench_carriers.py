"""The carrier benchmark's set-up and one run on a few parcels: every parcel gets a choice, the capacities
fill up as the service counts them, and pins, preferences and cost all take part (no timing asserted)."""

from __future__ import annotations

from collections import Counter

from omni_tools.bench import carriers as bench


def test_a_small_run_chooses_for_every_parcel_and_uses_every_way():
    s = bench.build(orders=400, n_carriers=20)
    assert len(s.carriers) == 20 and len(s.parcels) == 400
    _, each, choices = bench.run_once(s)
    assert len(choices) == len(each) == 400
    ways = bench.spread(choices)
    assert ways["by cost"] > 0 and ways["pinned"] > 0 and ways["preferred"] > 0
    chosen = Counter(c.carrier for c in choices)
    assert "C08" not in chosen  # down
    for c in s.carriers:  # a carrier with a daily capacity never takes more than it
        if c.daily_capacity is not None:
            assert chosen[c.code] <= c.daily_capacity


def test_main_prints_and_returns_the_rate(capsys):
    got = bench.main(["--orders", "50", "--carriers", "6", "--rounds", "1"])
    assert got["decisions"] == 50 and got["carriers"] == 6 and got["decisions_per_s"] > 0
    assert "decisions/s" in capsys.readouterr().out
