"""The routing benchmark's set-up and one run on a few orders: every order gets a decision and its trace,
and every routing rule takes part (closed and full nodes skipped, hints followed, load-band wins, O2O);
no timing asserted."""

from __future__ import annotations

from omni_fulfillment.domain.sourcing import Plan
from omni_tools.bench import routing as bench


def test_a_small_run_decides_every_order_and_uses_every_rule():
    s = bench.build(orders=600, n_nodes=60)
    assert len(s.nodes) == 60 and len(s.orders) == 600
    run = bench.run_once(s)
    assert len(run.results) == len(run.each) == len(run.decisions) == 600
    ways = bench.spread(run)
    for way in ("complete (one node)", "decisions skipping a closed node", "decisions skipping a full node",
                "route hints followed", "load-band wins"):  # fmt: skip
        assert ways[way] > 0, (way, ways)
    for o, r in zip(s.orders, run.results, strict=True):
        if o.pickup_node and isinstance(r, Plan):
            assert r.node_codes == [o.pickup_node]
    quick = bench.run_once(s, with_explain=False)
    assert quick.decisions == [] and [type(r) for r in quick.results] == [type(r) for r in run.results]


def test_main_prints_and_returns_the_rate(capsys):
    got = bench.main(["--orders", "50", "--nodes", "20", "--rounds", "1"])
    assert got["decisions"] == 50 and got["nodes"] == 20 and got["decisions_per_s"] > 0
    assert "decisions/s" in capsys.readouterr().out
