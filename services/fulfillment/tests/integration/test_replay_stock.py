"""Replaying fulfillment's stock view (omni.inventory.stock-changed) on the real broker and database.

The live consumer builds the view from a history with stale seqs and a redelivery; the replay rebuilds it
from offset 0 equal to it row by row (every column but `updated_at`, set at apply time); corrupted rows and
a refusal's interim hint (store.set_available, not from the stream) are reported and replaced by the swap,
while the live consumer keeps running.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from omni_chassis.kafka import create_topics
from omni_chassis.replay import replay
from omni_chassis.testing import eventually, running_consumers
from omni_contracts import Topic
from omni_fulfillment import consumers, store
from omni_fulfillment.projections import STOCK

sys.path.insert(0, str(Path(__file__).parent))
from fulfillment_support import MIGRATIONS, publish, rows, stock_changed, uid

pytestmark = pytest.mark.integration

VIEW = "SELECT node_code, material_code, available, seq FROM stock ORDER BY node_code, material_code"


async def view(db: Any) -> list[tuple[Any, ...]]:
    return [tuple(r) for r in await rows(db, VIEW)]


async def test_replay_rebuilds_the_stock_view_and_the_swap_heals_it(kafka_bootstrap, make_database):
    db = await make_database("fulfillment", migrations=MIGRATIONS)
    s = uid()
    prefix = f"test.replay{s}."
    topic = prefix + Topic.STOCK_CHANGED
    await create_topics(kafka_bootstrap, [topic], 3)
    nodes, materials = [f"WH{i}-{s}" for i in range(3)], [f"M{i}-{s}" for i in range(4)]
    history = [stock_changed(n, m, 10, 1) for n in nodes for m in materials]
    history += [
        stock_changed(nodes[0], materials[0], 7, 3),
        stock_changed(nodes[0], materials[0], 9, 2),
    ]  # stale
    history += [stock_changed(nodes[1], materials[1], 0, 5), stock_changed(nodes[2], materials[3], 4, 2)]
    history.append(history[0])  # redelivered
    await publish(kafka_bootstrap, topic, *history)
    spec = next(x for x in consumers.specs() if x.group == consumers.STOCK_GROUP)
    spec = dataclasses.replace(spec, topics=[topic], group=f"fulfillment-stock-{s}")

    async with running_consumers(kafka_bootstrap, db, [spec], repository=store.Repository):
        done = "SELECT count(*) = 12 AND sum(seq) = 19 FROM stock"  # 9 at seq 1, then 3, 5 and 2
        await eventually(lambda: _first(db, done))
        live = await view(db)
        assert (nodes[0], materials[0], 7, 3) in live and (nodes[1], materials[1], 0, 5) in live

        report = await replay(db, STOCK, bootstrap=kafka_bootstrap, topic_prefix=prefix)
        assert report.identical, report.tables
        assert (report.tables[0].live_rows, report.tables[0].rebuilt_rows) == (12, 12)
        assert report.events == len(history) - 1 and report.duplicates == 1
        assert await view(db) == live  # a dry run touches nothing

        async with db.transaction() as t:
            await t.execute(text(f"DELETE FROM stock WHERE node_code = '{nodes[2]}'"))  # four rows lost
            await t.execute(text(f"UPDATE stock SET seq = 99 WHERE material_code = '{materials[2]}'"))
            await store.Repository(t).set_available([(nodes[1], materials[0], 1)])  # a refusal's hint
        report = await replay(db, STOCK, bootstrap=kafka_bootstrap, topic_prefix=prefix)
        (diff,) = report.tables
        assert (diff.live_only, diff.rebuilt_only, diff.differing) == (0, 4, 3)
        hint = next(
            x for x in diff.samples if x["key"] == {"node_code": nodes[1], "material_code": materials[0]}
        )
        assert hint["columns"] == {"available": [1, 10]}

        report = await replay(db, STOCK, bootstrap=kafka_bootstrap, topic_prefix=prefix, swap=True)
        assert report.swapped and report.old_schema
        assert await view(db) == live  # row by row what the live consumer had built

        # the live consumer goes on, on the swapped-in rows: newer wins, an older seq does not
        await publish(
            kafka_bootstrap,
            topic,
            stock_changed(nodes[0], materials[0], 1, 2),
            stock_changed(nodes[0], materials[0], 2, 4),
        )
        pair = f"node_code = '{nodes[0]}' AND material_code = '{materials[0]}'"
        newer = f"SELECT available = 2 FROM stock WHERE {pair}"
        await eventually(lambda: _first(db, newer))


async def _first(db: Any, sql: str) -> Any:
    found = await rows(db, sql)
    return found[0][0] if found else None
