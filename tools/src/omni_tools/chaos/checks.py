"""What a chaos run checks afterwards, order by order, in each service's own database (read-only sessions)
and on the broker: DLQ records written during the run, and every consumer group's lag."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

import asyncpg

from omni_contracts import dlq_topic
from omni_contracts.topics import DLQ_PREFIX

from .stack import Stack

RO = {"default_transaction_read_only": "on", "application_name": "omni-chaos"}


@dataclass
class Check:
    name: str
    checked: int = 0
    lost: int = 0
    duplicated: int = 0
    stuck: int = 0
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.lost == self.duplicated == self.stuck == 0


async def _connect(url: str, attempts: int = 30) -> asyncpg.Connection:
    for i in range(attempts):  # PostgreSQL may just have been restarted
        try:
            return await asyncpg.connect(url, server_settings=RO)
        except (OSError, asyncpg.PostgresError):
            if i == attempts - 1:
                raise
            await asyncio.sleep(1)
    raise AssertionError("unreachable")


ORDERS_SQL = """SELECT channel_order_id, order_id, status, status_reason_code, status_reason FROM orders
 WHERE channel = 'tmall' AND channel_order_id = ANY($1::text[])"""


async def orders(stack: Stack, tids: list[str], expected: str) -> tuple[Check, dict[str, str]]:
    """Exactly one order per channel order id, in the expected state. Returns order_id per tid."""
    c = Check(f"one order per channel order id, {expected}", checked=len(tids))
    db = await _connect(stack.db_url("order"))
    try:
        rows = await db.fetch(ORDERS_SQL, tids)
    finally:
        await db.close()
    by_tid: dict[str, list] = {}
    for r in rows:
        by_tid.setdefault(r["channel_order_id"], []).append(r)
    c.lost = sum(1 for t in tids if t not in by_tid)
    c.duplicated = sum(len(v) - 1 for v in by_tid.values() if len(v) > 1)
    wrong = Counter(
        f"{v[0]['status']} {v[0]['status_reason_code'] or ''}".strip()
        for v in by_tid.values()
        if v[0]["status"] != expected
    )
    c.stuck = sum(wrong.values())
    c.notes = [f"{n} {s}" for s, n in wrong.most_common(4)]
    return c, {t: v[0]["order_id"] for t, v in by_tid.items()}


async def reservations(stack: Stack, order_ids: list[str]) -> Check:
    """One inventory reservation, holding or shipped, per fulfillment task; none held without a task."""
    c = Check("one reservation per allocated task")
    f_db, i_db = await _connect(stack.db_url("fulfillment")), await _connect(stack.db_url("inventory"))
    try:
        tasks = await f_db.fetch(
            "SELECT order_id, task_id, reservation_id, status FROM tasks WHERE order_id = ANY($1::text[])",
            order_ids,
        )
        held = await i_db.fetch(
            "SELECT reservation_id, order_id, status FROM reservations WHERE order_id = ANY($1::text[])",
            order_ids,
        )
    finally:
        await f_db.close()
        await i_db.close()
    c.checked = len(tasks)
    by_id = {r["reservation_id"]: r for r in held}
    live = [t for t in tasks if t["status"] != "cancelled"]
    c.lost = sum(1 for t in live if t["reservation_id"] not in by_id)
    c.stuck = sum(
        1 for t in live if t["reservation_id"] in by_id and by_id[t["reservation_id"]]["status"] == "refused"
    )
    task_res = {t["reservation_id"] for t in tasks}
    orphans = [r for r in held if r["status"] == "reserved" and r["reservation_id"] not in task_res]
    per_order = Counter(t["order_id"] for t in live)
    without_task = sum(1 for o in order_ids if per_order[o] == 0)
    c.duplicated = len(orphans)
    c.lost += without_task
    if orphans:
        c.notes.append(f"{len(orphans)} reservations hold stock without a task")
    if without_task:
        c.notes.append(f"{without_task} orders without a task")
    return c


STOCK_SQL = """
WITH rec AS (SELECT node_code, l->>'material_code' AS material_code, sum((l->>'qty')::bigint) AS q
               FROM receipts, jsonb_array_elements(lines) l GROUP BY 1, 2),
     adj AS (SELECT node_code, material_code, sum(delta) AS q FROM adjustments GROUP BY 1, 2),
     cnt AS (SELECT node_code, l->>'material_code' AS material_code, sum((l->>'variance')::bigint) AS q
               FROM counts, jsonb_array_elements(lines) l WHERE l->>'state' = 'good' GROUP BY 1, 2),
     qm AS (SELECT node_code, material_code, sum(CASE WHEN to_state = 'good' THEN qty
                                                      WHEN from_state = 'good' THEN -qty ELSE 0 END) AS q
              FROM quality_moves GROUP BY 1, 2),
     t_out AS (SELECT source_node AS node_code, l->>'material_code' AS material_code,
                      sum((l->>'qty')::bigint) AS q
                 FROM transfers, jsonb_array_elements(lines) l WHERE status IN ('shipped', 'received')
                GROUP BY 1, 2),
     t_in AS (SELECT target_node AS node_code, l->>'material_code' AS material_code,
                     sum((l->>'received')::bigint) AS q
                FROM transfers, jsonb_array_elements(lines) l WHERE status = 'received' GROUP BY 1, 2),
     res AS (SELECT node_code, l->>'material_code' AS material_code,
                    sum((l->>'qty')::bigint) FILTER (WHERE status = 'consumed') AS shipped,
                    sum((l->>'qty')::bigint) FILTER (WHERE status = 'reserved') AS held
               FROM reservations, jsonb_array_elements(lines) l GROUP BY 1, 2),
     ret AS (SELECT node_code, material_code, sum(good_qty) AS q FROM return_lines GROUP BY 1, 2),
     pos AS (SELECT node_code, material_code,
                    sum(CASE WHEN kind = 'store-return' THEN qty ELSE -booked END) AS q
               FROM store_sale_lines GROUP BY 1, 2),
     mov AS (SELECT node_code, material_code, sum(delta_on_hand) AS on_hand, sum(delta_reserved) AS reserved
               FROM movements GROUP BY 1, 2)
SELECT s.node_code, s.material_code, s.on_hand, s.reserved,
       coalesce(rec.q, 0) AS receipts,
       coalesce(adj.q, 0) + coalesce(cnt.q, 0) + coalesce(qm.q, 0)
         + coalesce(t_in.q, 0) - coalesce(t_out.q, 0)
         + coalesce(ret.q, 0) + coalesce(pos.q, 0) AS adjustments,
       coalesce(res.shipped, 0) AS shipped, coalesce(res.held, 0) AS held,
       coalesce(mov.on_hand, 0) AS mov_on_hand, coalesce(mov.reserved, 0) AS mov_reserved
  FROM stock s
  LEFT JOIN rec USING (node_code, material_code) LEFT JOIN adj USING (node_code, material_code)
  LEFT JOIN res USING (node_code, material_code) LEFT JOIN mov USING (node_code, material_code)
  LEFT JOIN cnt USING (node_code, material_code) LEFT JOIN qm USING (node_code, material_code)
  LEFT JOIN t_out USING (node_code, material_code) LEFT JOIN t_in USING (node_code, material_code)
  LEFT JOIN ret USING (node_code, material_code) LEFT JOIN pos USING (node_code, material_code)
 ORDER BY 1, 2"""


async def stock(stack: Stack) -> Check:
    """Per (node, material): receipts + adjustments (with counts' good variances, quality moves into and out
    of good, transfers received in and shipped out, after-sales returns restocked good, a store's till sales
    and returns) − shipments = on hand = Σ movements, and reserved =
    what reservations hold = Σ movements. `lost`: less on hand than booked; `duplicated`: more."""
    c = Check("stock conservation per (node, material)")
    db = await _connect(stack.db_url("inventory"))
    try:
        rows = await db.fetch(STOCK_SQL)
    finally:
        await db.close()
    c.checked = len(rows)
    for r in rows:
        booked = r["receipts"] + r["adjustments"] - r["shipped"]
        where = f"{r['node_code']}/{r['material_code']}"
        if r["on_hand"] != booked or r["on_hand"] != r["mov_on_hand"]:
            c.lost += r["on_hand"] < booked
            c.duplicated += r["on_hand"] > booked
            c.notes.append(f"{where}: on hand {r['on_hand']}, booked {booked}, movements {r['mov_on_hand']}")
        if r["reserved"] != r["held"] or r["reserved"] != r["mov_reserved"]:
            c.stuck += 1
            c.notes.append(
                f"{where}: reserved {r['reserved']}, held {r['held']}, movements {r['mov_reserved']}"
            )
    return c


async def vouchers(stack: Stack, order_ids: list[str]) -> tuple[Check, Check]:
    """One sale voucher per order; every voucher balanced and the trial balance equal."""
    c = Check("one sale voucher per order", checked=len(order_ids))
    tb = Check("trial balance (debits = credits)")
    db = await _connect(stack.db_url("finance"))
    try:
        counts = await db.fetch(
            "SELECT order_id, count(*) AS n FROM vouchers WHERE kind = 'sale' AND order_id = ANY($1::text[])"
            " GROUP BY 1",
            order_ids,
        )
        totals = await db.fetchrow(
            "SELECT count(DISTINCT voucher_id) AS n, coalesce(sum(debit_cents), 0) AS dr,"
            " coalesce(sum(credit_cents), 0) AS cr FROM voucher_lines"
        )
        unbalanced = await db.fetchval(
            "SELECT count(*) FROM (SELECT voucher_id FROM voucher_lines GROUP BY 1"
            " HAVING sum(debit_cents) <> sum(credit_cents)) u"
        )
    finally:
        await db.close()
    n = {r["order_id"]: r["n"] for r in counts}
    c.lost = sum(1 for o in order_ids if o not in n)
    c.duplicated = sum(v - 1 for v in n.values() if v > 1)
    tb.checked = totals["n"]
    tb.stuck = unbalanced + (totals["dr"] != totals["cr"])
    tb.notes.append(f"debits {totals['dr']:,} fen, credits {totals['cr']:,} fen")
    return c, tb


# -- the broker ---------------------------------------------------------------------------------------------
async def _admin(bootstrap: str):
    from aiokafka.admin import AIOKafkaAdminClient

    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="omni-chaos")
    await admin.start()
    return admin


async def _end_offsets(bootstrap: str, topics: list[str]) -> dict:
    from aiokafka import AIOKafkaConsumer, TopicPartition

    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        cluster = await consumer._client.fetch_all_metadata()  # partitions of topics not subscribed to
        tps = [TopicPartition(t, p) for t in topics for p in sorted(cluster.partitions_for_topic(t) or [])]
        return await consumer.end_offsets(tps) if tps else {}
    finally:
        await consumer.stop()


async def dlq_offsets(stack: Stack) -> dict:
    """End offsets of this stack's DLQ topics (`omni.dlq.<group prefix>…`), to count what a run adds."""
    admin = await _admin(stack.bootstrap)
    try:
        prefix = dlq_topic(stack.group_prefix) if stack.group_prefix else DLQ_PREFIX
        topics = [t for t in await admin.list_topics() if t.startswith(prefix)]
    finally:
        await admin.close()
    return await _end_offsets(stack.bootstrap, topics)


async def dead_letters(stack: Stack, before: dict) -> tuple[Check, Counter]:
    """DLQ records written since `before`: (check, count per 'consumer: error')."""
    from aiokafka import AIOKafkaConsumer

    c = Check("empty DLQs")
    after = await dlq_offsets(stack)
    c.checked = len(after)
    errors: Counter = Counter()
    new = {tp: end for tp, end in after.items() if end > before.get(tp, 0)}
    if not new:
        return c, errors
    consumer = AIOKafkaConsumer(bootstrap_servers=stack.bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(list(new))
        for tp in new:
            consumer.seek(tp, before.get(tp, 0))
        left = sum(end - before.get(tp, 0) for tp, end in new.items())
        deadline = time.monotonic() + 30
        while left > 0 and time.monotonic() < deadline:
            for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                for rec in records:
                    if rec.offset >= new[tp]:
                        continue
                    h = {k: v.decode(errors="replace") for k, v in rec.headers or []}
                    errors[f"{h.get('x-dlq-consumer', tp.topic)}: {h.get('x-dlq-error', '?')[:140]}"] += 1
                    left -= 1
    finally:
        await consumer.stop()
    c.stuck = sum(end - before.get(tp, 0) for tp, end in new.items())
    c.notes = [f"{n}× {e}" for e, n in errors.most_common(6)]
    return c, errors


async def lag(stack: Stack) -> dict[str, int]:
    """Per consumer group of this stack: Σ (end offset − committed offset) over its topics' partitions."""
    admin = await _admin(stack.bootstrap)
    try:
        live = stack.live_groups()  # not groups an older version of the code left behind
        groups = [
            g[0]
            for g in await admin.list_consumer_groups()
            if g[0].startswith(stack.group_prefix) and (not live or g[0] in live)
        ]
        committed = {g: await admin.list_consumer_group_offsets(g) for g in groups}
    finally:
        await admin.close()
    topics = sorted({tp.topic for offs in committed.values() for tp in offs})
    ends = await _end_offsets(stack.bootstrap, topics)
    out = {}
    for g, offs in committed.items():
        mine = {tp.topic for tp in offs}
        out[g] = sum(
            max(end - (offs[tp].offset if tp in offs and offs[tp].offset >= 0 else 0), 0)
            for tp, end in ends.items()
            if tp.topic in mine
        )
    return out


async def lag_drains(stack: Stack, since: float, within: float = 60) -> tuple[Check, float | None]:
    """Lag of every group back to 0 within `within` s of `since` (monotonic): (check, seconds it took)."""
    c = Check(f"consumer lag 0 within {within:.0f}s of the last fault")
    last: dict[str, int] = {}
    while True:
        try:
            last = await lag(stack)
        except Exception as exc:  # broker still coming back
            c.notes = [f"lag unknown: {type(exc).__name__}"]
        else:
            c.checked = len(last)
            if last and not any(last.values()):
                took = time.monotonic() - since
                c.notes = [f"{len(last)} groups, 0 after {took:.0f}s"]
                c.stuck = int(took > within)  # drained, but later than promised
                return c, took
        if time.monotonic() - since > within:
            behind = {g: n for g, n in last.items() if n}
            c.stuck = sum(behind.values()) or 1
            c.notes = [f"{g}: {n}" for g, n in sorted(behind.items(), key=lambda x: -x[1])[:6]]
            return c, None
        await asyncio.sleep(1)
