"""After-sales returns on real PostgreSQL and Kafka (service/returns.py, store_returns.py): the service's own
`inventory-orders` consumer, moved to a fresh topic, takes `order.return-received`: good units back into
good stock (sellable: the listing sells them), defective ones into defective stock (not available), the
ledger's `return-restock` rows name the case, stock-changed is staged; a redelivery and a second event for
the same case line change nothing; a repair moves nothing."""

from __future__ import annotations

import dataclasses
import sys
import uuid
from pathlib import Path

import pytest
from inventory_helpers import outbox, receive, rows, stock_of, uid, uow
from test_listing_stock import listing, node, product, published, stock_changes

from omni_chassis import dlq
from omni_chassis.kafka import make_producer
from omni_chassis.testing import eventually, running_consumers
from omni_inventory import consumers, store
from omni_inventory.service import listings

sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))
from fakes_returns import returned

pytestmark = pytest.mark.integration
NODE = "WH-A"


async def _publish(bootstrap, topic, envs):
    producer = make_producer(bootstrap, "omni-test-inventory-returns")
    await producer.start()
    try:
        for env in envs:
            await producer.send_and_wait(topic, env.to_bytes(), key=env.key.encode(), headers=env.headers())
    finally:
        await producer.stop()


async def _handled(db, group: str, event_id) -> bool:
    found = await rows(db, "SELECT 1 FROM inbox WHERE consumer = :c AND event_id = :e", c=group, e=event_id)
    return bool(found)


async def _defective(db, node_code: str, material: str) -> int:
    found = await rows(db, "SELECT qty FROM quality_stock WHERE node_code = :n AND material_code = :m "
                       "AND state = 'defective'", n=node_code, m=material)  # fmt: skip
    return found[0].qty if found else 0


async def test_returns_from_kafka_restock_good_units_book_defective_ones_and_never_twice(
    kafka_bootstrap, db, api, fresh_topic
):
    bean, cup = uid("BEAN"), uid("CUP")
    sp = uid("SP")
    await listings.handle_batch(uow(db), [node(NODE), product(sp, {bean: 1}), listing("L-T", "tmall", sp)])
    await receive(db, NODE, {bean: 5})
    await listings.handle_batch(uow(db), await stock_changes(db))
    assert await published(db) == {"L-T": 5}

    topic = await fresh_topic("omni.test.order")
    (spec,) = [s for s in consumers.specs() if s.group == consumers.ORDERS_GROUP]
    group = f"test-{uuid.uuid4().hex[:8]}.{spec.group}"
    specs = [dataclasses.replace(spec, topics=[topic], group=group)]
    case, order = uid("AS"), uid("O")
    # 2 good + 1 defective of bean; 1 good of a cup the node has never held
    first = returned(case, NODE, [("1", bean, 2, 1), ("2", cup, 1, 0)], order_id=order)
    again = returned(case, NODE, [("1", bean, 3, 0)], order_id=order)  # the same case line, other numbers
    repair = returned(uid("AS"), NODE, [("1", bean, 1, 0)], kind="repair", restock=False, order_id=order)

    async with running_consumers(kafka_bootstrap, db, specs, repository=store.Repository):
        await _publish(kafka_bootstrap, topic, [first])
        await eventually(lambda: _handled(db, group, first.event_id))
        row = await stock_of(db, NODE, bean)
        assert (row.on_hand, row.on_hand - row.reserved - row.frozen) == (7, 7)
        assert await _defective(db, NODE, bean) == 1
        r = await api.get(f"/stock/{NODE}/{bean}/quality")
        assert r.status_code == 200, r.text
        assert (r.json()["available"], r.json()["defective"]) == (7, 1)  # the defective one is not available
        assert (await stock_of(db, NODE, cup)).on_hand == 1  # its stock row was created
        ledger = await rows(db, "SELECT material_code, kind, delta_on_hand, on_hand_after FROM movements "
                            "WHERE reference = :r ORDER BY id", r=f"aftersales:{case}")  # fmt: skip
        want = [(bean, "return-restock", 2, 7), (cup, "return-restock", 1, 1)]
        assert sorted(tuple(x) for x in ledger) == sorted(want)
        staged = await outbox(db, "inventory.stock-changed", key=f"{NODE}:{bean}")
        assert (staged[-1]["data"]["movement"], staged[-1]["data"]["on_hand"]) == ("return-restock", 7)
        assert staged[-1]["causation_id"] == str(first.event_id)

        # the listing sells the 2 good units, not the defective one
        await listings.handle_batch(uow(db), await stock_changes(db))
        assert await published(db) == {"L-T": 7}

        # a redelivery (the same event), a second event for the same line, a repair: in order on one key
        await _publish(kafka_bootstrap, topic, [first, again, repair])
        await eventually(lambda: _handled(db, group, repair.event_id))
        assert await _handled(db, group, again.event_id)

    row = await stock_of(db, NODE, bean)
    assert (row.on_hand, await _defective(db, NODE, bean)) == (7, 1)
    assert len(await rows(db, "SELECT 1 FROM movements WHERE kind = 'return-restock'")) == 2
    assert len(await outbox(db, "inventory.stock-changed", key=f"{NODE}:{bean}")) == len(staged)
    applied = await rows(db, "SELECT case_id, line_id, good_qty, defective_qty FROM return_lines ORDER BY 2")
    assert [tuple(x) for x in applied] == [(case, "1", 2, 1), (case, "2", 1, 0)]
    assert await dlq.read_all(kafka_bootstrap, group) == []
