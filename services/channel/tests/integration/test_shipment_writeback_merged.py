"""The shipment write-back of a merged order (合单) end to end: real Kafka, real PostgreSQL (the migrations
up to channel0009), the channel app with its worker and the platform simulator in-process. A merged
order's shipped task is written back to every source's platform order with the same waybill; a re-sent
event changes nothing; a shipment before its order expands per source; an ordinary order keeps one
write-back named by its task; a source re-accepted on its own after an unmerge is its own order again.

A re-sent event is a new envelope (the chassis inbox already drops a redelivered one). That it changed
nothing is read after a marker published behind it on the same partition (same key) was handled."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_shipment_writeback import channel, prefix, shipments, state  # noqa: F401
from test_stock_push import db, sim  # noqa: F401

from omni_chassis.kafka import make_producer
from omni_chassis.testing import eventually
from omni_contracts import Topic, make_envelope
from omni_contracts.events.common import MaterialQty
from omni_contracts.events.fulfillment import ShippedV1
from omni_contracts.events.order import OrderAcceptedV1, OrderLine, OrderSource, ShipTo

pytestmark = pytest.mark.integration

APP_KEY2, SECRET2, SESSION2 = "app-stock-2", "stock-secret-2-0123", "session-2"
Send = Callable[..., Awaitable[None]]


def accepted_data(order_id: str, sources: list[tuple[str, str, int]]) -> OrderAcceptedV1:
    """An order accepted: its own (one source: no `sources`), or merged from `sources` (id, shop, tid)."""
    merged = len(sources) > 1
    lines = [
        OrderLine(line_id=f"l{i}", channel_line_id=f"o{i}", sales_product_code="P", material_code="M", qty=1,
                  amount_cents=100, source_order_id=src if merged else None)
        for i, (src, _, _) in enumerate(sources)
    ]  # fmt: skip
    srcs = [OrderSource(order_id=src, shop_id=shop, channel_order_id=str(tid), goods_paid_cents=100,
                        paid_cents=100) for src, shop, tid in sources] if merged else []  # fmt: skip
    _, shop, tid = sources[0]
    return OrderAcceptedV1(
        order_id=order_id, channel="tmall", shop_id=shop, channel_order_id=str(tid),
        ship_to=ShipTo(name="x", phone="1", city="杭州"), lines=lines, goods_paid_cents=100 * len(lines),
        paid_cents=100 * len(lines), sources=srcs,
    )  # fmt: skip


def shipped_data(order_id: str, task_id: str, tracking_no: str) -> ShippedV1:
    return ShippedV1(task_id=task_id, order_id=order_id, node_code="WH1", reservation_id="r1", carrier="SF",
                     tracking_no=tracking_no, lines=[MaterialQty(material_code="M", qty=1)],
                     shipped_at=datetime.now(UTC))  # fmt: skip


@pytest.fixture
async def send(kafka_bootstrap, prefix):  # noqa: F811
    producer = make_producer(kafka_bootstrap, "omni-test-writeback-merged")
    await producer.start()

    async def publish(data: Any, key: str) -> None:
        topic = Topic.ORDER if isinstance(data, OrderAcceptedV1) else Topic.FULFILLMENT
        env = make_envelope(data, producer="test", key=key)
        await producer.send_and_wait(prefix + topic, env.to_bytes(), key=key.encode(), headers=env.headers())

    yield publish
    await producer.stop()


@pytest.fixture
async def second_shop(channel, sim):  # noqa: F811
    await sim.put("shops", {"shop_id": "TM-S2", "app_key": APP_KEY2, "secret": SECRET2, "session": SESSION2})
    r = await channel.put(
        "/shops/tmall/TM-S2",
        json={"name": "S2", "app_key": APP_KEY2, "secret": SECRET2, "session_key": SESSION2},
    )
    assert r.status_code == 201


def ids() -> tuple[str, int]:
    n = uuid.uuid4().int % 10**10
    return f"{n}", 3_900_000_000_000 + n * 10


async def listed(channel, **params: str) -> list[dict[str, Any]]:  # noqa: F811
    page = (await channel.get("/shipment-writebacks", params=params)).json()
    assert page["total"] == len(page["items"])
    return sorted(page["items"], key=lambda w: w["writeback_id"])


async def acknowledged(channel, order_id: str, n: int) -> list[dict[str, Any]] | None:  # noqa: F811
    rows = await listed(channel, order_id=order_id)
    return rows if len(rows) == n and all(w["state"] == "acknowledged" for w in rows) else None


async def test_a_merged_order_is_written_back_to_every_source_once(channel, sim, send, second_shop):  # noqa: F811
    n, tid = ids()
    m, task = f"M-{n}", f"T-{n}"
    sources = [(f"S1-{n}", "TM-S", tid + 1), (f"S2-{n}", "TM-S2", tid + 2)]
    await send(accepted_data(m, sources), m)
    await send(shipped_data(m, task, "SF-M-1"), m)
    rows = await eventually(lambda: acknowledged(channel, m, 2), timeout=20)
    keys = ("writeback_id", "task_id", "source_order_id", "shop_id", "channel_order_id", "tracking_no",
            "company_code")  # fmt: skip
    assert [tuple(w[k] for k in keys) for w in rows] == [
        (f"{task}:S1-{n}", task, f"S1-{n}", "TM-S", str(tid + 1), "SF-M-1", "SF"),
        (f"{task}:S2-{n}", task, f"S2-{n}", "TM-S2", str(tid + 2), "SF-M-1", "SF"),
    ]
    # the simulator took one waybill on both platform orders, each from its own shop
    for shop, t in (("TM-S", tid + 1), ("TM-S2", tid + 2)):
        [s] = await shipments(sim, t)
        assert (s["out_sid"], s["company_code"], s["shop_id"], s["sends"]) == ("SF-M-1", "SF", shop, 1)
    # both events sent again, then a marker behind them on each partition (same key)
    await send(accepted_data(m, sources), m)
    await send(shipped_data(m, task, "SF-M-1"), m)
    marker_order, marker_task = f"X-{n}", f"TX-{n}"
    await send(accepted_data(marker_order, [(marker_order, "TM-S", tid + 3)]), m)
    await send(shipped_data(marker_order, marker_task, "SF-X-1"), m)
    await eventually(lambda: state(channel, marker_task, "acknowledged"), timeout=20)
    assert await listed(channel, order_id=m) == rows  # nothing new, nothing sent again
    for t in (tid + 1, tid + 2):
        assert [s["sends"] for s in await shipments(sim, t)] == [1]
    assert [w["writeback_id"] for w in await listed(channel, channel_order_id=str(tid + 2))] == [
        f"{task}:S2-{n}"
    ]


async def test_a_shipment_before_its_merged_order_expands_per_source(channel, sim, send):  # noqa: F811
    n, tid = ids()
    m, task = f"M-{n}", f"T-{n}"
    await send(shipped_data(m, task, "SF-M-2"), m)
    wb = await eventually(lambda: state(channel, task, "waiting"), timeout=20)
    assert wb["task_id"] == task and wb["source_order_id"] is None and wb["channel_order_id"] is None
    await send(accepted_data(m, [(f"S1-{n}", "TM-S", tid + 1), (f"S2-{n}", "TM-S", tid + 2)]), m)
    rows = await eventually(lambda: acknowledged(channel, m, 2), timeout=20)
    assert [(w["writeback_id"], w["channel_order_id"]) for w in rows] == [
        (f"{task}:S1-{n}", str(tid + 1)), (f"{task}:S2-{n}", str(tid + 2))
    ]  # fmt: skip
    assert (await channel.get(f"/shipment-writebacks/{task}")).status_code == 404  # replaced by the two
    for t in (tid + 1, tid + 2):
        assert [s["out_sid"] for s in await shipments(sim, t)] == ["SF-M-2"]


async def test_an_ordinary_order_and_a_source_after_an_unmerge_are_their_own(channel, sim, send):  # noqa: F811
    n, tid = ids()
    ordinary, task = f"O-{n}", f"T-{n}"
    await send(accepted_data(ordinary, [(ordinary, "TM-S", tid)]), ordinary)
    await send(shipped_data(ordinary, task, "SF-O-1"), ordinary)
    [wb] = await eventually(lambda: acknowledged(channel, ordinary, 1), timeout=20)
    assert (wb["writeback_id"], wb["task_id"], wb["source_order_id"]) == (task, task, None)
    assert wb["channel_order_id"] == str(tid)
    # a merged order unmerged (cancelled before allocation): each source accepted again under its own id
    m, s1, s2 = f"M-{n}", f"S1-{n}", f"S2-{n}"
    await send(accepted_data(m, [(s1, "TM-S", tid + 1), (s2, "TM-S", tid + 2)]), m)
    await send(accepted_data(s1, [(s1, "TM-S", tid + 1)]), s1)
    await send(accepted_data(s2, [(s2, "TM-S", tid + 2)]), s2)
    await send(shipped_data(s2, f"T2-{n}", "SF-S2-1"), s2)
    [wb] = await eventually(lambda: acknowledged(channel, s2, 1), timeout=20)
    assert (wb["writeback_id"], wb["source_order_id"], wb["channel_order_id"]) == (
        f"T2-{n}",
        None,
        str(tid + 2),
    )
    assert [s["out_sid"] for s in await shipments(sim, tid + 2)] == ["SF-S2-1"]
