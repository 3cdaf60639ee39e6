"""After-sales from the platforms (consumer group `order-aftersales` on omni.channel.orders).

- `channel.refund.received` (one per platform refund id and status): the refund's case is created on its
  first status and moved by the next ones (domain/aftersales.py); each (refund id, status) is applied once,
  a repeat changes nothing. Until the money is done, each status recomputes what the refund takes of each
  material line (per line and unit, to the fen). Effects:
  - a refund before shipment that, once agreed or refunded, takes every unit of the order intercepts it:
    the order is cancelled through the operator's path (order.cancelled: fulfillment cancels its tasks,
    inventory releases the stock, finance reverses the sale, which is the refund's voucher);
  - otherwise `refunded` emits order.refund-approved, once per case;
  - a return or exchange, once agreed (or awaiting the return), emits order.return-expected at the node that
    shipped the goods.
- `channel.order.closed`: an order not yet shipped is cancelled the same way; one already shipped (or not
  cancellable) is kept as a `platform_close` case, nothing undone.
- A refund or closure for an order not received yet waits for it (WaitingFor -> the chassis parks it and
  tries again; it is never dropped).
"""

from __future__ import annotations

from typing import Any

from omni_chassis.consumer import WaitingFor
from omni_chassis.logging import get_logger
from omni_contracts import Envelope, utcnow
from omni_contracts.events.aftersales import OrderRefundApprovedV1, OrderReturnExpectedV1

from ..domain import aftersales as d
from ..domain.aftersales import Kind, State
from ..domain.status import Status, can_transition
from .aftersales_cases import (
    SHIPPED,
    Case,
    case_row,
    line_rows,
    material_lines,
    new_case_id,
    refunded_lines,
    return_lines,
)
from .journal import OrderUow, StatusJournal
from .merge import source_cancelled
from .operator import cancel_order

log = get_logger(__name__)
EVENTS = ("channel.refund.received", "channel.order.closed")


def order_key(channel: str, channel_order_id: str) -> str:
    return f"order:{channel}:{channel_order_id}"


async def apply_channel_aftersales(uow: OrderUow, env: Envelope[Any]) -> None:
    if env.event_type == "channel.refund.received":
        await apply_refund(uow, env)
    elif env.event_type == "channel.order.closed":
        await apply_closed(uow, env)


async def _order_of(uow: OrderUow, channel: str, channel_order_id: str, what: str) -> dict[str, Any]:
    order_id = await uow.repo.find_order_id(channel, channel_order_id)
    order = await uow.repo.get_order(order_id, for_update=True) if order_id else None
    if order is None:
        raise WaitingFor(order_key(channel, channel_order_id), f"{what}: the order has not been received yet")
    return order


async def _as_fulfilled(uow: OrderUow, order: dict[str, Any]) -> dict[str, Any]:
    """A merged source as after-sales sees it: its goods go (or went) with its merged order, so whether they
    left is the merged order's status (the case stays the source's: its lines, its money)."""
    if not order.get("merged_into"):
        return order
    merged = await uow.repo.get_order(order["merged_into"])
    return order if merged is None else order | {"status": merged["status"]}


async def apply_refund(uow: OrderUow, env: Envelope[Any]) -> None:
    ev = env.data
    where = f"{ev.channel} refund {ev.channel_refund_id}"
    now = utcnow()
    async with uow:
        repo = uow.repo
        order = await _as_fulfilled(uow, await _order_of(uow, ev.channel, ev.channel_order_id, where))
        row = await repo.case_by_refund(ev.channel, ev.channel_refund_id)
        if row is None:
            kind = d.kind_of(ev.kind, Status(order["status"]) in SHIPPED)
            first = d.PLATFORM_STATES.get(ev.status, State.REQUESTED)
            row = case_row(new_case_id(), order, kind, first, "channel", now, refund_id=ev.channel_refund_id,
                           channel_status=ev.channel_status, reason=ev.reason)  # fmt: skip
            if not await repo.insert_case(row):
                row = await repo.case_by_refund(ev.channel, ev.channel_refund_id)
                assert row is not None
                frm, target = State(row["state"]), None
            else:
                frm, target = None, first
        else:
            frm, target = State(row["state"]), None
        case = Case(uow, row, now, cause=env)
        if frm is not None:
            if ev.status in await repo.seen_statuses(case.id):
                log.info("refund status already applied", case_id=case.id, status=ev.status)
                return
            target = d.platform_target(case.kind, frm, ev.status)
        if not case.money_done:
            await _price(case, order, ev, where)
        note = await _effects(case, order, target, ev.status, where)
        case.cols["channel_status"] = ev.channel_status
        await case.record(
            frm, target or case.state, note, platform_status=ev.status, channel_status=ev.channel_status
        )
    log.info("platform refund applied", case_id=case.id, kind=case.kind.value, state=case.state.value,
             status=ev.status)  # fmt: skip


async def _price(case: Case, order: dict[str, Any], ev: Any, where: str) -> None:
    """What this refund takes of each line, against what the order's other cases already refunded."""
    lines = await material_lines(case.uow, order["order_id"], but=case.id)
    qty = {x["channel_line_id"]: x["qty"] for x in await case.uow.repo.channel_lines(order["order_id"])}
    requests = [d.RefundRequest(x.channel_line_id, x.qty, x.refund_cents) for x in ev.lines]
    if requests:
        split = d.split_refund(lines, qty, requests, where)
    else:
        split = d.whole_order(
            lines, min(ev.refund_cents, sum(x.amount_cents - x.refunded_cents for x in lines))
        )
    freight_left = order["post_fee_cents"] - await refunded_freight(case, order["order_id"])
    money = d.money_of(ev.refund_cents, split, freight_left, where)
    case.split = split
    case.cols.update(refund_cents=money.total, goods_refund_cents=money.goods_cents,
                     freight_refund_cents=money.freight_cents)  # fmt: skip
    by_channel = {x.line_id: x.channel_line_id for x in lines}
    await case.uow.repo.replace_case_lines(case.id, line_rows(case.id, split, by_channel))


async def refunded_freight(case: Case, order_id: str) -> int:
    return sum(c["freight_refund_cents"] for c in await case.uow.repo.order_cases(order_id)
               if c["money_done"] and c["case_id"] != case.id)  # fmt: skip


async def _effects(
    case: Case, order: dict[str, Any], target: State | None, ev_status: str, where: str
) -> str:
    """What entering `target` does beyond the case (intercept, refund, return expected): a history note."""
    if target is None:
        return "no change (a status already passed, or one that does not apply)"
    case.state = target
    notes = []
    status = Status(order["status"])
    if not case.money_done and target in (State.AGREED, State.REFUNDED):
        if case.kind is Kind.REFUND_BEFORE_SHIPMENT and status is Status.CANCELLED:
            case.cols["money_done"] = True
            notes.append("the order was already cancelled: its sale is reversed")
        elif case.kind is Kind.REFUND_BEFORE_SHIPMENT and can_transition(status, Status.CANCELLED):
            every = await material_lines(case.uow, order["order_id"], but=case.id)
            journal = StatusJournal(case.uow, "channel", at=case.now)
            why = f"{where}: refunded in full before shipment"
            if not d.whole_order_refunded(every, case.split):
                pass
            elif order.get("merged_into"):
                if await source_cancelled(case.uow, journal, order, why, case.cause):
                    case.cols["money_done"] = True
                    notes.append(f"intercepted: its merged order {order['merged_into']} is unmerged and this "
                                 "order cancelled")  # fmt: skip
            else:
                cancel_order(journal, order, why, reason_code="refunded", cause=case.cause)
                case.cols["money_done"] = True
                notes.append("intercepted: the whole order was refunded before shipment, so it is cancelled")
    if ev_status == "refunded" and not case.money_done:
        case.cols["money_done"] = True
        if case.cols.get("refund_cents", case.row["refund_cents"]):
            case.uow.emit(_refund_approved(case, order), key=order["order_id"], cause=case.cause)
            notes.append("refund approved")
    if case.kind in (Kind.RETURN_AND_REFUND, Kind.EXCHANGE) and case.row["node_code"] is None and target in (
        State.AGREED, State.AWAITING_RETURN, State.RETURNED,
    ):  # fmt: skip
        notes.append(await expect_return(case, order["order_id"]))
    return "; ".join(notes) or f"now {target}"


def _refund_approved(case: Case, order: dict[str, Any]) -> OrderRefundApprovedV1:
    c = case.row | case.cols
    return OrderRefundApprovedV1(
        case_id=case.id, order_id=order["order_id"], channel=order["channel"],
        channel_order_id=order["channel_order_id"], channel_refund_id=c["channel_refund_id"],
        kind=case.kind.value,
        before_shipment=Status(order["status"]) not in SHIPPED, lines=refunded_lines(case.split),
        goods_refund_cents=c["goods_refund_cents"], freight_refund_cents=c["freight_refund_cents"],
        refund_cents=c["refund_cents"], currency=c["currency"], approved_at=case.now,
    )  # fmt: skip


async def _shipping_nodes(uow: OrderUow, order_id: str) -> dict[str, str]:
    """line id -> the node it left from; a merged source's lines left with its merged order's."""
    nodes = {k: v for k, v in (await uow.repo.shipping_nodes(order_id)).items() if v != "-"}  # "-": the OMS's
    order = await uow.repo.get_order(order_id) if not nodes else None
    if not order or not order.get("merged_into"):
        return nodes
    m = order["merged_into"]
    through = await uow.repo.shipping_nodes(m)
    return {
        x["source_line_id"]: through[x["line_id"]]
        for x in (await uow.repo.material_lines([m]))[m]
        if x.get("source_line_id") and x["line_id"] in through
    }


async def expect_return(case: Case, order_id: str) -> str:
    """order.return-expected at the node that shipped the goods (the first line's, when they differ)."""
    lines = [x for x in await case.uow.repo.case_lines(case.id) if x["qty"] > 0]
    if not lines:
        return "no units to return"
    nodes = await _shipping_nodes(case.uow, order_id)
    node = next((nodes[x["line_id"]] for x in lines if x["line_id"] in nodes), None)
    if node is None:
        return "no shipping node known: the return is expected nowhere yet"
    case.cols["node_code"] = node
    case.uow.emit(
        OrderReturnExpectedV1(case_id=case.id, order_id=order_id, kind=case.kind.value, node_code=node,
                              lines=return_lines(lines), expected_at=case.now),
        key=order_id, cause=case.cause,
    )  # fmt: skip
    return f"return expected at {node}"


async def apply_closed(uow: OrderUow, env: Envelope[Any]) -> None:
    ev = env.data
    where = f"{ev.channel} order {ev.channel_order_id} closed ({ev.reason})"
    now = utcnow()
    async with uow:
        order = await _order_of(uow, ev.channel, ev.channel_order_id, where)
        status = Status(order["status"])
        if status is Status.CANCELLED:
            log.info("closed order already cancelled", order_id=order["order_id"])
            return
        journal = StatusJournal(uow, "channel", at=now)
        if order.get("merged_into"):  # merged: M unmerged (this one cancelled), unless M is past allocation
            if await source_cancelled(uow, journal, order, f"{where} on the platform", env):
                log.info("merged order closed on the platform: unmerged", order_id=order["order_id"])
                return
        elif can_transition(status, Status.CANCELLED):
            cancel_order(journal, order, f"{where} on the platform", reason_code="channel_closed", cause=env)
            log.info("order closed on the platform: cancelled", order_id=order["order_id"])
            return
        if any(c["kind"] == Kind.PLATFORM_CLOSE for c in await uow.repo.order_cases(order["order_id"])):
            return
        row = case_row(new_case_id(), order, Kind.PLATFORM_CLOSE, State.RECORDED, "channel", now,
                       channel_status=ev.channel_status, reason=ev.reason)  # fmt: skip
        await uow.repo.insert_case(row)
        await Case(uow, row, now, cause=env).record(
            None,
            State.RECORDED,
            f"closed on the platform while {status}: nothing undone",
            channel_status=ev.channel_status,
        )
    log.info("order closed on the platform after it left: recorded", order_id=order["order_id"],
             status=status.value)  # fmt: skip
