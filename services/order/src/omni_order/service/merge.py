"""Merge (合单) in the flow (docs/merge-split-design.md):

    intake        an order review held `merge_window` gets its merge group (domain/merge.py) and joins the
                  group's open window (its timer exists), or opens one: MERGE_TIMER at received_at + window_s,
                  with the strategy's caps as payload.
    the timer     the group's orders still held on `merge_window` alone are packed oldest first under the
                  caps: a parcel of one goes on alone (`review.end_flow_hold`), a parcel of several becomes a
                  merged order M (kind `merged`, a new id, the union of their lines, each naming its source,
                  and `sources` on order.accepted); the sources become `merged`, `merged_into = M`. An order
                  also held for another reason leaves the window and stays held on the rest.
    unmerge       (an operator, until M is allocated) M is cancelled (fulfillment releases what it held,
                  finance reverses the sales it booked per source) and each source is accepted again on its
                  own, with its own order.accepted.
    cancel M      its sources are cancelled with it (`operator.cancel_order`).

Every step is traced on M and on each source. Sources never emit order.cancelled: their sales were booked
through M's order.accepted, so M's order.cancelled is what reverses them.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from omni_chassis.logging import get_logger

from ..domain.ids import new_order_id
from ..domain.merge import Candidate, Caps, Parcel, describe, merge_group, pack
from ..domain.review import MERGE_WINDOW, PRESALE_BALANCE, PRESALE_SHIP_FROM, Review, trace_rows
from ..domain.rules.ruleset import TraceEntry
from ..domain.status import DomainError, Status
from .dispatch import send_to_fulfillment
from .journal import Cause, OrderNotFound, OrderUow, StatusJournal
from .operator import cancel_order
from .records import line_id, receiver_moved

log = get_logger(__name__)

MERGE_TIMER = "order.merge-window"  # key: the merge group
UNMERGEABLE = (Status.ACCEPTED, Status.SOURCING, Status.BACKORDER, Status.EXCEPTION, Status.HELD)
PRESALE_HOLDS = {PRESALE_BALANCE, PRESALE_SHIP_FROM}
MONEY = ("goods_cents", "discount_cents", "post_fee_cents", "paid_cents", "goods_paid_cents")


class NotMergeable(DomainError):
    """An unmerge the order's state refuses (409)."""


def group_of(row: dict[str, Any], review: Review, address: Sequence[str]) -> str | None:
    """The merge group of an order review held `merge_window` (its roles and partners already set)."""
    if review.strategy is None or not any(h.code == MERGE_WINDOW for h in review.holds):
        return None
    doc = review.strategy.doc
    return merge_group(
        strategy_id=review.strategy.strategy_id, channel=row["channel"],
        shop_id=f"{row['channel']}:{row['shop_id']}", group_shops=doc.merge.shops,
        merge_key=row.get("merge_key") or "", buyer_nick=row["buyer_id"], address=address,
        delivery=row["delivery"], pickup_node=row["pickup_node"],
        roles=[row.get(f"role_{r}") for r in ("owner", "seller", "fulfiller", "platform")]
        + [row.get("partners") or []],
    )  # fmt: skip


async def open_windows(uow: OrderUow, waiting: Sequence[tuple[dict[str, Any], Review]]) -> dict[str, str]:
    """For each merge group of orders intake just held: join its open window, or open one. Timer rows are
    locked in key order (as the firing takes them, before any order): no deadlock with a window closing.
    Returns {order id: what the trace says}."""
    groups: dict[str, tuple[datetime, Caps, int]] = {}
    for row, r in waiting:
        assert r.strategy is not None
        m = r.strategy.doc.merge
        # from when Omni got it (a platform may push an order minutes after it was placed): it does wait
        due = max(row["created_at"], row.get("received_at") or row["created_at"]) + timedelta(
            seconds=m.window_s
        )
        caps = Caps(m.max_lines, m.max_amount_cents, m.max_weight_g)
        g = groups.get(row["merge_group"])
        groups[row["merge_group"]] = (min(due, g[0]) if g else due, caps, m.window_s)
    said: dict[str, str] = {}
    for key in sorted(groups):
        due, caps, window = groups[key]
        if await uow.lock_timer(MERGE_TIMER, key):
            said[key] = "joins the buyer's merge window already open"
        else:
            uow.schedule_timer(MERGE_TIMER, key, due, caps.as_payload())
            said[key] = f"opens a merge window of {window} s, closing {due:%Y-%m-%d %H:%M:%S} UTC"
    return {row["order_id"]: said[row["merge_group"]] for row, _ in waiting}


def merge_trace(review: Review, said: str) -> None:
    review.trace.append(TraceEntry("merge", "merge window", True, said))


async def on_merge_window(uow: OrderUow, key: str, payload: dict[str, Any] | None) -> None:
    """The window of group `key` closed: merge what waited in it (the timer loop's unit of work)."""
    async with uow:
        repo = uow.repo
        rows = await repo.waiting_to_merge(key)
        if not rows:
            log.info("merge window closed with no order waiting")
            return
        holds = await repo.open_holds([o["order_id"] for o in rows])
        journal = StatusJournal(uow, "timer")
        ready, others = [], []
        for o in rows:
            codes = {h["code"] for h in holds.get(o["order_id"], [])}
            if MERGE_WINDOW not in codes:
                continue
            (others if codes & PRESALE_HOLDS else ready).append(o)
            journal.set(o["order_id"], merge_group=None)
        for o in others:
            await _go_alone(uow, journal, o, "not merged: a presale hold remains")
        lines = await repo.material_lines([o["order_id"] for o in ready])
        weights = await repo.material_weights({x["material_code"] for ls in lines.values() for x in ls})
        caps = Caps.of(payload)
        candidates = [
            Candidate(o["order_id"], o["created_at"], len(lines[o["order_id"]]), o["paid_cents"],
                      sum(weights.get(x["material_code"], 0) * x["qty"] for x in lines[o["order_id"]]))
            for o in ready
        ]  # fmt: skip
        by_id = {o["order_id"]: o for o in ready}
        merged, closed_by = [], ""
        for parcel in pack(candidates, caps):
            if len(parcel.orders) == 1:
                why = (f"over the caps with the buyer's earlier orders ({closed_by})" if closed_by
                       else "no other order of the buyer came in the window")  # fmt: skip
                await _go_alone(uow, journal, by_id[parcel.orders[0].order_id], f"not merged: {why}")
            else:
                srcs = [by_id[c.order_id] for c in parcel.orders]
                kept = [h for s in srcs for h in holds[s["order_id"]] if h["code"] != MERGE_WINDOW]
                merged.append(await _merge(uow, journal, srcs, lines, parcel, caps, closed_by, kept))
            closed_by = parcel.closed_by
    log.info("merge window closed", waiting=len(rows), merged_orders=merged)


async def _go_alone(uow: OrderUow, journal: StatusJournal, order: dict[str, Any], why: str) -> None:
    from .review import end_flow_hold

    await end_flow_hold(uow, journal, order, MERGE_WINDOW, "merge_window", why)


async def _merge(
    uow: OrderUow,
    journal: StatusJournal,
    sources: list[dict[str, Any]],
    lines: dict[str, list[dict[str, Any]]],
    parcel: Parcel,
    caps: Caps,
    after_cap: str,
    kept: list[dict[str, Any]],
) -> str:
    """Make merged order M of `sources` (locked, oldest first) and fold the sources into it. M inherits the
    sources' other open holds (`kept`: a buyer message to read, a manual review) and waits on them, held;
    with none it goes to fulfillment at once."""
    m_id, first, at = new_order_id(), sources[0], journal.at
    row = _merged_row(m_id, first, sources, at)
    await uow.repo.insert_new_orders([row])
    m_lines: list[dict[str, Any]] = []
    for s in sources:
        for x in lines[s["order_id"]]:
            pos = len(m_lines) + 1
            m_lines.append(
                {"line_id": line_id(m_id, pos), "order_id": m_id, "position": pos,
                 "channel_line_id": x["channel_line_id"], "sales_product_code": x["sales_product_code"],
                 "material_code": x["material_code"], "qty": x["qty"], "amount_cents": x["amount_cents"],
                 "gift_id": x.get("gift_id"), "source_order_id": s["order_id"],
                 "source_line_id": x["line_id"], "group": x.get("group"), "ships": x.get("ships", True)}
            )  # fmt: skip
    await uow.repo.add_lines(m_lines)
    size = describe(parcel, caps)
    names = ", ".join(f"{s['order_id']} ({s['channel_order_id']})" for s in sources)
    journal.created(m_id, f"merged from orders {names}", None)
    merged_why = f"merged from {len(sources)} orders of the same buyer"
    if kept:
        await uow.repo.add_holds([
            {"order_id": m_id, "code": h["code"], "reason": f"{h['reason']} (order {h['order_id']})",
             "rule": h["rule"], "blocking": h["blocking"], "held_at": at}
            for h in kept
        ])  # fmt: skip
        reason = "; ".join(f"{h['reason']} (order {h['order_id']})" for h in kept)
        journal.transition(
            row, Status.HELD, reason_code=kept[0]["code"], reason=f"{merged_why}, held: {reason}"
        )
    else:
        journal.transition(row, Status.ACCEPTED, reason=merged_why)
    trace = [TraceEntry("merge", "merged order", True, f"merged from {names}: same buyer and address, {size}",
                        "one order to fulfil, finance and write-back per source")]  # fmt: skip
    if after_cap:
        went = f"the buyer's earlier orders went apart ({after_cap})"
        trace.append(TraceEntry("merge", "caps", False, went))
    rows = trace_rows(m_id, trace, at)
    for s in sources:
        others = ", ".join(o["order_id"] for o in sources if o is not s)
        await uow.repo.end_holds(s["order_id"], "merged", f"merged into {m_id} (its holds go with it)", at)
        journal.transition(s, Status.MERGED, reason_code="merged", reason=f"merged into {m_id} with {others}")
        journal.set(s["order_id"], merged_into=m_id)
        rows += trace_rows(
            s["order_id"],
            [TraceEntry("merge", f"merged order {m_id}", True,
                        f"merged into {m_id} with {others}: same buyer and address, {size}", "merged")],
            at,
        )  # fmt: skip
    await uow.repo.add_decisions(rows)
    if not kept:
        send_to_fulfillment(uow, row, m_lines)
    log.info("orders merged", order_id=m_id, sources=[s["order_id"] for s in sources], held=bool(kept))
    return m_id


def _merged_row(
    m_id: str, first: dict[str, Any], sources: list[dict[str, Any]], at: datetime
) -> dict[str, Any]:
    row = dict(first)
    hints: list[dict[str, Any]] = []
    for s in sources:
        hints += [h for h in s.get("route_hints") or [] if h not in hints]
    paid = [s["paid_at"] for s in sources if s["paid_at"] is not None]
    row.update(
        order_id=m_id, kind="merged", merged_into=None, merge_group=None,
        channel_order_id="+".join(s["channel_order_id"] for s in sources),
        status=Status.RECEIVED.value, status_reason_code=None, status_reason=None, recorded_at=at,
        updated_at=at, completed_at=None, cancelled_at=None, duplicate_deliveries=0, last_duplicate_at=None,
        paid_at=max(paid) if paid else None,
        buyer_message=" / ".join(s["buyer_message"] for s in sources if s["buyer_message"]),
        seller_memo=" / ".join(s.get("seller_memo") or "" for s in sources if s.get("seller_memo")),
        invoice_kind=None, invoice_title=None, invoice_tax_id=None,  # invoices stay per source
        tags=list(dict.fromkeys(t for s in sources for t in s.get("tags") or [])),
        priority=max(s.get("priority") or 0 for s in sources), route_hints=hints,
        merge_sources=[
            {"order_id": s["order_id"], "shop_id": s["shop_id"], "channel_order_id": s["channel_order_id"],
             "goods_paid_cents": s["goods_paid_cents"], "post_fee_cents": s["post_fee_cents"],
             "paid_cents": s["paid_cents"], "paid_at": s["paid_at"].isoformat() if s["paid_at"] else None}
            for s in sources
        ],
        **{k: sum(s[k] for s in sources) for k in MONEY},
        **receiver_moved(first, m_id),  # the same receiver, sealed for M
    )  # fmt: skip
    return row


async def unmerge(uow: OrderUow, order_id: str, reason: str) -> dict[str, Any]:
    """Undo a merge (the merged order, or any of its sources, named): M is cancelled and each source goes on
    alone. Refused once M is allocated (its goods are reserved at a node as one parcel)."""
    async with uow:
        repo = uow.repo
        order = await repo.get_order(order_id, for_update=True)
        if order is None:
            raise OrderNotFound(f"no order {order_id}")
        if order.get("kind") != "merged" and order.get("merged_into"):
            order = await repo.get_order(order["merged_into"], for_update=True)
            assert order is not None
        if order.get("kind") != "merged":
            raise NotMergeable(f"order {order_id} is not a merged order and is not merged into one")
        if Status(order["status"]) not in UNMERGEABLE:
            raise NotMergeable(
                f"merged order {order['order_id']} is {order['status']}: unmerge is possible only before it "
                f"is allocated (while {', '.join(s.value for s in UNMERGEABLE)})"
            )
        sources = await _unmerge(uow, StatusJournal(uow, "api"), order, f"unmerged by an operator: {reason}")
    return {"order_id": order["order_id"], "status": Status.CANCELLED.value, "sources": sources}


async def source_cancelled(
    uow: OrderUow, journal: StatusJournal, source: dict[str, Any], why: str, cause: Cause = None
) -> bool:
    """A merged source closed or refunded in full on its platform: while M can be unmerged, M is cancelled,
    this source with it (status only) and the others go on alone. False: M is past allocation (the caller
    records it for an operator, as for an order that left)."""
    merged = await uow.repo.get_order(source["merged_into"], for_update=True)
    if merged is None or Status(merged["status"]) not in UNMERGEABLE:
        return False
    await _unmerge(uow, journal, merged, f"source {source['order_id']}: {why}", drop=source["order_id"],
                   cause=cause)  # fmt: skip
    return True


async def _unmerge(
    uow: OrderUow,
    journal: StatusJournal,
    merged: dict[str, Any],
    why: str,
    *,
    drop: str | None = None,
    cause: Cause = None,
) -> list[str]:
    """Cancel merged order M (locked); each source goes on alone, but `drop`, cancelled with it. A source
    whose holds M inherited and still has open is held on them again (it was never reviewed)."""
    repo, m_id = uow.repo, merged["order_id"]
    sources = await repo.merged_sources(m_id)
    m_holds = (await repo.open_holds([m_id])).get(m_id, [])
    await repo.end_holds(m_id, "unmerged", why, journal.at)
    cancel_order(journal, merged, why, reason_code="unmerged", cause=cause)
    lines = await repo.material_lines([s["order_id"] for s in sources])
    rows = trace_rows(m_id, [TraceEntry("merge", "unmerge", True, why, "cancelled; its sources go on alone")],
                      journal.at)  # fmt: skip
    for s in sources:
        sid = s["order_id"]
        journal.set(sid, merged_into=None)
        if sid == drop:
            journal.transition(s, Status.CANCELLED, reason_code="merged_cancelled", reason=why, cause=cause)
            journal.set(sid, cancelled_at=journal.at)
            continue
        mine = f" (order {sid})"
        back = [h | {"reason": h["reason"].removesuffix(mine)} for h in m_holds if h["reason"].endswith(mine)]
        rows += trace_rows(sid, [TraceEntry("merge", f"merged order {m_id}", False, why,
                                            "held again on its own holds" if back else "goes on alone")],
                           journal.at)  # fmt: skip
        if back:
            keep = ("code", "reason", "rule", "blocking")
            await repo.add_holds(
                [{k: h[k] for k in keep} | {"order_id": sid, "held_at": journal.at} for h in back]
            )
            held = "; ".join(h["reason"] for h in back)
            journal.transition(s, Status.HELD, reason_code=back[0]["code"],
                               reason=f"unmerged from {m_id}, still held: {held}", cause=cause)  # fmt: skip
            continue
        journal.transition(s, Status.ACCEPTED, reason=f"unmerged from {m_id}: {why}", cause=cause)
        send_to_fulfillment(uow, s, lines[sid], cause=cause)
    await repo.add_decisions(rows)
    log.info("merged order unmerged", order_id=m_id, sources=[s["order_id"] for s in sources], dropped=drop)
    return [s["order_id"] for s in sources]


__all__ = ["MERGE_TIMER", "NotMergeable", "group_of", "on_merge_window", "open_windows", "source_cancelled",
           "unmerge"]  # fmt: skip
