"""Replaying finance's order facts (orders, order_lines, shipments, the merged orders' mapping, receivables)
from omni.order and omni.fulfillment.

The live consumers book four orders, partial and full shipments, a pickup, a cancellation before and one after
shipment, a redelivery, an order accepted twice, a shipment whose order never comes (parked), a merged order
shipped per source and one unmerged (cancelled, a source then accepted on its own), a refund after shipment,
a compensation and an order on account paid. The replay
rebuilds the facts from offset 0 equal to them row by row: every column but `updated_at` and `cancelled_at`,
set at apply time and compared by presence. The swap heals a corrupted model; the ledger (vouchers) and the
outbox are never touched by a replay.
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
from omni_finance import consumers, store
from omni_finance.projections import ORDER_FACTS

sys.path.insert(0, str(Path(__file__).parent))
from finance_factories import (
    ALL_LINES,
    MIGRATIONS,
    accepted,
    cancelled,
    env,
    merged_accepted,
    own_accepted,
    picked_up,
    publish,
    rows,
    shipped,
    uid,
)

sys.path.insert(0, str(Path(__file__).parents[1]))  # finance_aftersales, shared with the unit tests
from finance_aftersales import compensation_granted, on_account, payment_received, refund_approved

pytestmark = pytest.mark.integration

FACTS = {
    "orders": ("SELECT to_jsonb(t) - 'updated_at' - 'cancelled_at' || jsonb_build_object('cancelled', "
               "cancelled_at IS NOT NULL) FROM orders t ORDER BY order_id"),
    "order_lines": "SELECT to_jsonb(t) FROM order_lines t ORDER BY order_id, line_no",
    "shipments": "SELECT to_jsonb(t) FROM shipments t ORDER BY task_id, order_id",
    "merged_orders": "SELECT to_jsonb(t) FROM merged_orders t ORDER BY order_id",
    "merged_sources": "SELECT to_jsonb(t) FROM merged_sources t ORDER BY merged_order_id, position",
    "merged_lines": "SELECT to_jsonb(t) FROM merged_lines t ORDER BY merged_order_id, line_no",
    "receivables": "SELECT to_jsonb(t) - 'updated_at' FROM receivables t ORDER BY order_id",
}  # fmt: skip
MERGED = ("merged_orders", 2), ("merged_sources", 4), ("merged_lines", 8)


async def facts(db: Any) -> dict[str, list[Any]]:
    return {name: [r[0] for r in await rows(db, sql)] for name, sql in FACTS.items()}


async def first(db: Any, sql: str) -> Any:
    found = await rows(db, sql)
    return found[0][0] if found else None


async def test_replay_rebuilds_the_order_facts_and_the_swap_heals_them(kafka_bootstrap, make_database):
    db = await make_database("finance", migrations=MIGRATIONS)
    s = uid("r")
    prefix = f"test.replay{s}."
    orders_topic, shipments_topic = prefix + Topic.ORDER, prefix + Topic.FULFILLMENT
    await create_topics(kafka_bootstrap, [orders_topic, shipments_topic], 3)
    topic_of = {consumers.ORDERS_GROUP: orders_topic, consumers.SHIPMENTS_GROUP: shipments_topic}
    specs = [
        dataclasses.replace(x, topics=[topic_of[x.group]], group=f"{x.group}-{s}")
        for x in consumers.specs()
        if x.group in topic_of  # the order facts' groups (not the store sales')
    ]
    a, b, c, d = (uid(f"O{n}") for n in "ABCD")
    m, e1, e2 = uid("M"), uid("E1"), uid("E2")  # merged, shipped per source
    m2, g1, g2 = uid("M2"), uid("G1"), uid("G2")  # merged, unmerged, G1 then accepted on its own
    k, buyer = uid("OK"), uid("tmall:b2b")  # sold on account, then paid

    async with running_consumers(kafka_bootstrap, db, specs, repository=store.Repository):
        acc = [accepted(o) for o in (a, b, c, d)]
        await publish(
            kafka_bootstrap, orders_topic, *acc, acc[0], accepted(b)
        )  # redelivery; b accepted twice
        await publish(kafka_bootstrap, orders_topic, merged_accepted(m, e1, e2), merged_accepted(m2, g1, g2))
        await publish(kafka_bootstrap, orders_topic, env(on_account(accepted(k).data, buyer)))
        await eventually(lambda: first(db, "SELECT count(*) = 9 FROM orders"))

        part = [("BEAN-YIRGA", 1), ("MACHINE-AUTO", 1)]
        rest = [("BEAN-HUILA", 1), ("BEAN-MANDHELING", 1), ("FILTER-100", 3)]
        waiting = shipped(uid("O-never"), part)  # its order never comes: parked, live and in the replay
        await publish(
            kafka_bootstrap,
            shipments_topic,
            shipped(a, part),
            shipped(a, rest),
            picked_up(b, ALL_LINES),
            waiting,
            shipped(m, [("BEAN-YIRGA", 1), ("MACHINE-AUTO", 1)]),  # one task, one row per source
        )
        await eventually(lambda: first(db, "SELECT count(*) = 5 FROM shipments"))
        back = refund_approved(
            b, uid("AS"), [(f"{b}-4", "MACHINE-AUTO", 1, 70_000)], kind="return_and_refund"
        )
        await publish(kafka_bootstrap, orders_topic, env(back), env(compensation_granted(a, uid("AS"), 500)),
                      env(payment_received(k, buyer, 102_000)))  # fmt: skip
        await eventually(
            lambda: first(db, f"SELECT status = 'cleared' FROM receivables WHERE order_id = '{k}'")
        )
        await eventually(
            lambda: first(db, "SELECT count(*) = 2 FROM vouchers WHERE kind IN ('refund', 'compensation')")
        )

        await publish(kafka_bootstrap, orders_topic, cancelled(c), cancelled(a))  # before / after shipment
        done = (
            f"SELECT count(*) = 2 FROM orders WHERE (order_id = '{c}' AND status = 'cancelled') "
            f"OR (order_id = '{a}' AND cancelled_at IS NOT NULL AND status = 'shipping')"
        )
        await eventually(lambda: first(db, done))
        await publish(kafka_bootstrap, orders_topic, cancelled(m2))
        await eventually(
            lambda: first(db, f"SELECT status = 'cancelled' FROM orders WHERE order_id = '{g1}'")
        )
        await publish(kafka_bootstrap, orders_topic, own_accepted(g1, first=True))
        await eventually(
            lambda: first(db, f"SELECT merged_order_id IS NULL FROM orders WHERE order_id = '{g1}'")
        )
        live = await facts(db)
        assert len(live["orders"]) == 9 and len(live["order_lines"]) == 33 and len(live["shipments"]) == 5
        assert len(live["receivables"]) == 1
        ledger = "SELECT (SELECT count(*) FROM vouchers), (SELECT count(*) FROM outbox)"
        books = await rows(db, ledger)

        report = await replay(db, ORDER_FACTS, bootstrap=kafka_bootstrap, topic_prefix=prefix)
        assert report.identical, [x for t in report.tables for x in t.samples]
        assert [(t.table, t.rebuilt_rows) for t in report.tables] == [
            *MERGED, ("orders", 9), ("order_lines", 33), ("shipments", 5), ("receivables", 1)
        ]  # fmt: skip
        assert report.duplicates == 1 and report.discarded_events > 0  # its vouchers were never published
        assert [x.error for x in report.skipped] == [f"still waiting for order:{waiting.data.order_id} "
                                                     "(the live consumer keeps it parked)"]  # fmt: skip
        assert await facts(db) == live and await rows(db, ledger) == books

        async with db.transaction() as t:  # corrupt the live facts
            await t.execute(
                text(f"UPDATE order_lines SET shipped_qty = 0, recognized_cents = 0 WHERE order_id = '{a}'")
            )
            await t.execute(text(f"DELETE FROM shipments WHERE order_id = '{b}'"))
            await t.execute(text(f"UPDATE orders SET status = 'accepted' WHERE order_id = '{c}'"))
        report = await replay(db, ORDER_FACTS, bootstrap=kafka_bootstrap, topic_prefix=prefix)
        by_table = {t.table: (t.live_only, t.rebuilt_only, t.differing) for t in report.tables}
        assert by_table == {"orders": (0, 0, 1), "order_lines": (0, 0, 5), "shipments": (0, 1, 0)} | {
            t: (0, 0, 0) for t, _ in (*MERGED, ("receivables", 1))
        }

        report = await replay(db, ORDER_FACTS, bootstrap=kafka_bootstrap, topic_prefix=prefix, swap=True)
        assert report.swapped
        assert await facts(db) == live  # row by row what the live consumers had built
        assert await rows(db, ledger) == books  # the ledger is never rewritten, nothing was emitted

        # the live consumers go on, on the swapped-in rows: d ships, a's shipment is not booked twice
        await publish(kafka_bootstrap, shipments_topic, shipped(d, ALL_LINES))
        await eventually(lambda: first(db, f"SELECT status = 'shipping' FROM orders WHERE order_id = '{d}'"))
        assert await first(db, "SELECT count(*) FROM shipments") == 6
