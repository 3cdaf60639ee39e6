"""`omni_chassis.replay` on the real broker and database, with a small projection of its own (raw text() SQL
that emits an event too, so that the shadow schema must catch both)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from sqlalchemy import text

from omni_chassis.consumer import ConsumerSpec, PermanentError
from omni_chassis.kafka import create_topics, make_producer
from omni_chassis.replay import Projection, replay
from omni_chassis.testing import eventually, running_consumers
from omni_contracts import Envelope, Topic, make_envelope, utcnow
from omni_contracts.events.inventory import StockChangedV1

pytestmark = pytest.mark.integration

LEVELS_DDL = (
    "CREATE TABLE probe_levels (node text, material text, available int NOT NULL, seq bigint NOT NULL, "
    "updated_at timestamptz NOT NULL, PRIMARY KEY (node, material))"
)
UPSERT = text(
    "INSERT INTO probe_levels (node, material, available, seq, updated_at) VALUES (:n, :m, :a, :s, now()) "
    "ON CONFLICT (node, material) DO UPDATE SET available = excluded.available, seq = excluded.seq, "
    "updated_at = excluded.updated_at WHERE probe_levels.seq < excluded.seq"
)
SNAPSHOT = "SELECT node, material, available, seq FROM probe_levels ORDER BY node, material"


async def apply_levels(uow: Any, envs: list[Envelope[Any]]) -> None:
    """Newest seq wins (text() SQL); every change is also emitted, as a real handler would."""
    async with uow:
        for env in envs:
            d = env.data
            if d.node_code == "POISON":
                raise PermanentError("a node that cannot exist")
            params = {"n": d.node_code, "m": d.material_code, "a": d.available, "s": d.seq}
            await uow.session.execute(UPSERT, params)
            uow.emit(d, key=env.key, cause=env)


def levels(name: str = "levels") -> Projection:
    return Projection(
        name=name,
        tables=("probe_levels",),
        topics=(Topic.STOCK_CHANGED,),
        event_types=frozenset({"inventory.stock-changed"}),
        apply=apply_levels,
    )


def change(node: str, material: str, available: int, seq: int) -> Envelope[Any]:
    data = StockChangedV1(
        node_code=node, material_code=material, on_hand=available, reserved=0, frozen=0,
        available=available, movement="adjustment", seq=seq, changed_at=utcnow(),
    )  # fmt: skip
    return make_envelope(data, producer="inventory", key=f"{node}:{material}")


async def publish(bootstrap: str, topic: str, envs: list[Envelope[Any]], raw: list[bytes] = ()) -> None:
    producer = make_producer(bootstrap, "omni-test-replay")
    await producer.start()
    try:
        for e in envs:
            await producer.send_and_wait(topic, e.to_bytes(), key=e.key.encode(), headers=e.headers())
        for value in raw:
            headers = [("event_type", b"inventory.stock-changed")]
            await producer.send_and_wait(topic, value, key=b"N1:M1", headers=headers)
    finally:
        await producer.stop()


async def _true(db: Any, sql: str) -> bool:
    return bool((await rows(db, sql))[0][0])


async def rows(db: Any, sql: str) -> list[tuple[Any, ...]]:
    async with db.transaction() as s:
        return [tuple(r) for r in await s.execute(text(sql))]


@pytest.fixture
async def world(kafka_bootstrap, make_database):
    """A fresh database with the probe table, and a topic prefix of its own (nobody else's events)."""
    db = await make_database("replay")
    async with db.transaction() as s:
        await s.execute(text(LEVELS_DDL))
    prefix = f"test.replay{uuid.uuid4().hex[:8]}."
    topic = prefix + Topic.STOCK_CHANGED
    await create_topics(kafka_bootstrap, [topic], 3)
    return db, prefix, topic


def history() -> list[Envelope[Any]]:
    """Keys over 3 partitions, newer and stale seqs, one event delivered twice."""
    out = [change(f"N{n}", f"M{m}", 10 * n + m, 1) for n in range(1, 4) for m in range(1, 5)]
    out += [change("N1", "M1", 5, 3), change("N1", "M1", 7, 2)]  # seq 2 is stale once 3 is applied
    out += [change("N2", "M2", 0, 9), change("N3", "M4", 44, 1)]  # the second repeats seq 1: ignored
    out.append(out[0])  # a duplicate delivery (same event id)
    out.append(change("POISON", "M1", 1, 1))  # the live consumer dead-letters it
    return out


async def test_rebuild_equals_live_and_the_swap_heals_a_corrupted_model(kafka_bootstrap, world):
    db, prefix, topic = world
    await publish(kafka_bootstrap, topic, history(), raw=[b"not json"])
    spec = ConsumerSpec(
        group=f"probe-{uuid.uuid4().hex[:8]}", topics=[topic], batch_handler=apply_levels,
        event_types={"inventory.stock-changed"},
    )  # fmt: skip
    async with running_consumers(kafka_bootstrap, db, [spec], max_attempts=1):
        done = "SELECT count(*) = 12 AND sum(seq) = 22 FROM probe_levels"  # 10 at seq 1, one at 3, one at 9
        await eventually(lambda: _true(db, done))
        live = await rows(db, SNAPSHOT)
        assert len(live) == 12 and ("N1", "M1", 5, 3) in live and ("N2", "M2", 0, 9) in live
        outbox_before = await rows(db, "SELECT count(*) FROM outbox")

        # dry run: the rebuilt model equals the live one; nothing live was touched, nothing emitted
        report = await replay(db, levels(), bootstrap=kafka_bootstrap, topic_prefix=prefix)
        assert report.identical and not report.swapped
        (t,) = report.tables
        assert (t.table, t.live_rows, t.rebuilt_rows) == ("probe_levels", 12, 12)
        assert report.duplicates == 1
        assert report.skipped_count == 2  # the undecodable message and the poison event, as the live DLQ has
        assert {s.error.split(":")[0] for s in report.skipped} == {"DecodeError", "PermanentError"}
        assert await rows(db, SNAPSHOT) == live
        assert await rows(db, "SELECT count(*) FROM outbox") == outbox_before
        schemas = "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'replay%' ORDER BY 1"
        assert await rows(db, schemas) == []  # the shadow schema is gone

        # corrupt the live model: a row lost, a row altered, a row that no event made
        async with db.transaction() as s:
            await s.execute(text("DELETE FROM probe_levels WHERE node = 'N3' AND material = 'M3'"))
            await s.execute(
                text("UPDATE probe_levels SET available = 999 WHERE node = 'N1' AND material = 'M1'")
            )
            await s.execute(text("INSERT INTO probe_levels VALUES ('GHOST', 'M9', 1, 1, now())"))
        report = await replay(db, levels(), bootstrap=kafka_bootstrap, topic_prefix=prefix)
        (t,) = report.tables
        assert (t.live_only, t.rebuilt_only, t.differing) == (1, 1, 1)
        by_kind = {x["kind"]: x for x in t.samples}
        assert by_kind["differs"]["key"] == {"node": "N1", "material": "M1"}
        assert by_kind["differs"]["columns"] == {"available": [999, 5]}  # updated_at: by presence only
        assert by_kind["live_only"]["key"] == {"node": "GHOST", "material": "M9"}
        assert by_kind["rebuilt_only"]["row"]["available"] == 33
        assert ("N1", "M1", 999, 3) in await rows(db, SNAPSHOT)  # a dry run changes nothing

        # the swap, with the live consumer still running, heals it; the corrupted rows are kept aside
        report = await replay(db, levels(), bootstrap=kafka_bootstrap, topic_prefix=prefix, swap=True)
        assert report.swapped and report.lock_ms is not None and report.delta_events == 0
        assert (report.tables[0].live_only, report.tables[0].differing) == (1, 1)  # what the swap changed
        assert await rows(db, SNAPSHOT) == live
        assert report.old_schema and report.old_schema.startswith("replay_old_levels_")
        old = await rows(db, f"SELECT available FROM {report.old_schema}.probe_levels WHERE node = 'N1'")
        assert (999,) in old
        assert await rows(db, schemas) == [(report.old_schema,)]
        assert await rows(db, "SELECT count(*) FROM outbox") == outbox_before

        # the live consumer goes on after the swap
        await publish(kafka_bootstrap, topic, [change("N1", "M1", 1, 4)])
        await eventually(lambda: rows(db, "SELECT 1 FROM probe_levels WHERE node = 'N1' AND seq = 4"))


async def test_the_swap_applies_what_arrived_after_the_rebuild(kafka_bootstrap, world):
    """No live consumer here: the events published between the rebuild and the lock can only come from the
    read under the lock."""
    db, prefix, topic = world
    await publish(kafka_bootstrap, topic, [change("N1", "M1", 3, 1), change("N2", "M1", 4, 1)])

    async def meanwhile() -> None:
        await publish(kafka_bootstrap, topic, [change("N1", "M1", 8, 2), change("N9", "M9", 9, 1)])

    report = await replay(
        db, levels(), bootstrap=kafka_bootstrap, topic_prefix=prefix, swap=True, drop_old=True,
        before_swap=meanwhile, batch_size=1,
    )  # fmt: skip
    assert report.swapped and report.events == 4 and report.delta_events == 2
    assert await rows(db, SNAPSHOT) == [("N1", "M1", 8, 2), ("N2", "M1", 4, 1), ("N9", "M9", 9, 1)]
    assert report.old_schema is None
    assert await rows(db, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'replay%'") == []


async def test_one_replay_of_a_projection_at_a_time(kafka_bootstrap, world):
    db, prefix, _ = world
    async with db.engine.connect() as other:
        await other.execute(text("SELECT pg_advisory_lock(hashtext('omni.replay.levels'))"))
        with pytest.raises(RuntimeError, match="already running"):
            await replay(db, levels(), bootstrap=kafka_bootstrap, topic_prefix=prefix)
        await other.execute(text("SELECT pg_advisory_unlock(hashtext('omni.replay.levels'))"))
    report = await replay(db, levels(), bootstrap=kafka_bootstrap, topic_prefix=prefix)
    assert report.identical and report.events == 0


async def test_unknown_tables_and_topics_are_named(kafka_bootstrap, world):
    db, prefix, _ = world
    bad = Projection("nothing", ("no_such_table",), (Topic.STOCK_CHANGED,), frozenset({"x"}), apply_levels)
    with pytest.raises(LookupError, match="no_such_table"):
        await replay(db, bad, bootstrap=kafka_bootstrap, topic_prefix=prefix)
    with pytest.raises(LookupError, match="no such topic"):
        await replay(db, levels(), bootstrap=kafka_bootstrap, topic_prefix=prefix + "absent.")


async def test_the_swap_waits_for_a_transaction_that_holds_the_live_table(kafka_bootstrap, world):
    """A live consumer in the middle of a batch holds the table: the swap's lock times out, is retried, and
    succeeds once that transaction has committed (its row is then replaced by the rebuilt one)."""
    db, prefix, topic = world
    await publish(kafka_bootstrap, topic, [change("N1", "M1", 3, 1)])
    async with db.engine.connect() as other:
        await other.execute(
            text("INSERT INTO probe_levels VALUES ('N1', 'M1', 1, 1, now())")
        )  # not committed
        task = asyncio.create_task(
            replay(
                db, levels(), bootstrap=kafka_bootstrap, topic_prefix=prefix, swap=True, lock_timeout_s=0.2
            )
        )
        await eventually(lambda: _waiting_for_lock(db))
        assert not task.done()
        await other.commit()
    report = await asyncio.wait_for(task, 60)
    assert report.swapped and report.tables[0].differing == 1  # the committed row, replaced
    assert await rows(db, SNAPSHOT) == [("N1", "M1", 3, 1)]


async def _waiting_for_lock(db: Any) -> bool:
    sql = (
        "SELECT count(*) > 0 FROM pg_stat_activity "
        "WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE 'LOCK TABLE%'"
    )
    return await _true(db, sql)
