"""After-sales an operator does through the API (what platforms do not send):

- `open_case`: reship (a lost parcel: a new outbound order of the same lines, 0 paid, accepted at once),
  repair (the goods come back, are mended, and go back: order.return-expected) and compensation (money only:
  order.compensation-granted);
- `receive`: a return's inspection at its node, good and defective units per line (order.return-received:
  inventory restocks the good ones and books the defective ones as defective); an exchange's receipt then
  sends the new outbound order;
- `complete_repair`; the reads `get_case` and `list_cases`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import utcnow
from omni_contracts.events.aftersales import InspectedLine, OrderCompensationGrantedV1, OrderReturnReceivedV1

from ..domain import aftersales as d
from ..domain.aftersales import AfterSalesError, IllegalCaseTransition, Kind, State
from ..domain.status import Status
from .aftersales import expect_return
from .aftersales_cases import SHIPPED, Case, case_row, line_rows, new_case_id, outbound_order
from .journal import OrderNotFound, OrderUow

log = get_logger(__name__)


class CaseNotFound(OrderNotFound):
    """No such after-sales case (404)."""


@dataclass(frozen=True)
class CaseLine:
    line_id: str
    qty: int | None = None  # None: every unit of the line


@dataclass(frozen=True)
class OpenCase:
    kind: Kind
    reason: str
    lines: Sequence[CaseLine] = ()
    amount_cents: int = 0


async def open_case(uow: OrderUow, order_id: str, cmd: OpenCase) -> str:
    if cmd.kind not in d.OPERATOR_KINDS:
        raise AfterSalesError(f"kind {cmd.kind} comes from the platform; an operator opens reship, repair or "
                              "compensation")  # fmt: skip
    now = utcnow()
    async with uow:
        order = await uow.repo.get_order(order_id, for_update=True)
        if order is None:
            raise OrderNotFound(f"no order {order_id}")
        chosen = await _chosen_lines(uow, order, cmd)
        row = case_row(
            new_case_id(), order, cmd.kind, d.INITIAL[cmd.kind], "operator", now, reason=cmd.reason
        )
        await uow.repo.insert_case(row)
        case = Case(uow, row, now)
        by_id = {x["line_id"]: x for x, _ in chosen}
        split = [d.SplitLine(x["line_id"], x["material_code"], n, 0) for x, n in chosen]
        await uow.repo.replace_case_lines(
            case.id, line_rows(case.id, split, {k: v["channel_line_id"] for k, v in by_id.items()})
        )
        if cmd.kind is Kind.COMPENSATION:
            note = _compensate(case, order, cmd)
        elif cmd.kind is Kind.RESHIP:
            note = f"reshipped as order {await outbound_order(uow, case, order, chosen, 'reship')}"
        else:
            note = await expect_return(case, order_id)
        await case.record(None, case.state, note)
    log.info("after-sales case opened", case_id=case.id, kind=cmd.kind.value, order_id=order_id)
    return case.id


async def _chosen_lines(
    uow: OrderUow, order: dict[str, Any], cmd: OpenCase
) -> list[tuple[dict[str, Any], int]]:
    where = f"{cmd.kind} of order {order['order_id']}"
    if cmd.kind is Kind.COMPENSATION:
        if cmd.amount_cents <= 0:
            raise AfterSalesError(f"{where}: amount_cents must be positive")
        if cmd.amount_cents > order["paid_cents"]:
            raise AfterSalesError(
                f"{where}: {cmd.amount_cents} fen is more than the {order['paid_cents']} paid"
            )
    elif Status(order["status"]) not in SHIPPED:
        raise IllegalCaseTransition(
            f"{where}: the order has not shipped ({order['status']}); nothing to {cmd.kind}"
        )
    lines = {x["line_id"]: x for x in (await uow.repo.material_lines([order["order_id"]]))[order["order_id"]]}
    wanted = cmd.lines or [CaseLine(x) for x in lines]
    problems, chosen = [], []
    for w in wanted:
        x = lines.get(w.line_id)
        if x is None:
            problems.append(f"{where}: no line {w.line_id}")
        elif w.qty is not None and not 0 < w.qty <= x["qty"]:
            problems.append(f"{where}: line {w.line_id} has {x['qty']} units, not {w.qty}")
        else:
            chosen.append((x, x["qty"] if w.qty is None else w.qty))
    if problems:
        raise AfterSalesError("; ".join(problems))
    return [] if cmd.kind is Kind.COMPENSATION and not cmd.lines else chosen


def _compensate(case: Case, order: dict[str, Any], cmd: OpenCase) -> str:
    case.cols.update(refund_cents=cmd.amount_cents, money_done=True)
    case.uow.emit(
        OrderCompensationGrantedV1(
            case_id=case.id, order_id=order["order_id"], channel=order["channel"],
            channel_order_id=order["channel_order_id"], amount_cents=cmd.amount_cents,
            currency=order["currency"], reason=cmd.reason[:500], granted_at=case.now,
        ),
        key=order["order_id"],
    )  # fmt: skip
    return f"compensation of {cmd.amount_cents} fen granted"


async def receive(
    uow: OrderUow, case_id: str, node_code: str | None, inspected: Sequence[d.Inspected]
) -> None:
    """A return arrived and was inspected (good / defective per line) at `node_code` (default: where it was
    expected)."""
    now = utcnow()
    async with uow:
        case = await _locked(uow, case_id, now)
        where = f"after-sales case {case_id}"
        if not d.can_receive(case.kind, case.state):
            raise IllegalCaseTransition(f"{where} ({case.kind}) in {case.state} cannot receive a return")
        node = node_code or case.row["node_code"]
        if node is None:
            raise AfterSalesError(f"{where}: node_code is required (no node was expected for the return)")
        rows = await uow.repo.case_lines(case_id)
        d.check_inspection({x["line_id"]: x["qty"] for x in rows}, inspected, where)
        await uow.repo.set_inspected(case_id, [vars(x) for x in inspected])
        frm, case.state = case.state, d.after_receipt(case.kind, case.state)
        case.cols["node_code"] = node
        material = {x["line_id"]: x["material_code"] for x in rows}
        uow.emit(
            OrderReturnReceivedV1(
                case_id=case_id, order_id=case.row["order_id"], kind=case.kind.value, node_code=node,
                restock=case.kind is not Kind.REPAIR, received_at=now,
                lines=[InspectedLine(line_id=x.line_id, material_code=material[x.line_id],
                                     good_qty=x.good_qty, defective_qty=x.defective_qty) for x in inspected],
            ),
            key=case.row["order_id"],
        )  # fmt: skip
        good, bad = sum(x.good_qty for x in inspected), sum(x.defective_qty for x in inspected)
        await case.record(frm, case.state, f"received at {node}: {good} good, {bad} defective")
        if case.kind is Kind.EXCHANGE:
            await _exchange_out(uow, case, inspected)
    log.info("return received", case_id=case_id, node_code=node)


async def _exchange_out(uow: OrderUow, case: Case, inspected: Sequence[d.Inspected]) -> None:
    order = await uow.repo.get_order(case.row["order_id"], for_update=True)
    assert order is not None
    lines = {x["line_id"]: x for x in (await uow.repo.material_lines([order["order_id"]]))[order["order_id"]]}
    out = [(lines[x.line_id], x.good_qty + x.defective_qty) for x in inspected]
    new_id = await outbound_order(uow, case, order, out, "exchange")
    frm = case.move(State.EXCHANGED)
    await case.record(frm, State.EXCHANGED, f"the exchange goes out as order {new_id}")


async def complete_repair(uow: OrderUow, case_id: str) -> None:
    now = utcnow()
    async with uow:
        case = await _locked(uow, case_id, now)
        if case.kind is not Kind.REPAIR:
            raise IllegalCaseTransition(f"after-sales case {case_id} is a {case.kind}, not a repair")
        frm = case.move(State.COMPLETED)
        await case.record(frm, State.COMPLETED, "repaired and sent back")


async def _locked(uow: OrderUow, case_id: str, now: Any) -> Case:
    row = await uow.repo.get_case(case_id, for_update=True)
    if row is None:
        raise CaseNotFound(f"no after-sales case {case_id}")
    return Case(uow, row, now)


@dataclass(frozen=True)
class CaseRecord:
    case: dict[str, Any]
    lines: list[dict[str, Any]]
    history: list[dict[str, Any]]


async def get_case(uow: OrderUow, case_id: str) -> CaseRecord:
    async with uow:
        row = await uow.repo.get_case(case_id)
        if row is None:
            raise CaseNotFound(f"no after-sales case {case_id}")
        return CaseRecord(row, await uow.repo.case_lines(case_id), await uow.repo.case_history(case_id))


async def list_cases(
    uow: OrderUow,
    *,
    order_id: str | None = None,
    channel: str | None = None,
    kind: str | None = None,
    state: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    async with uow:
        return await uow.repo.list_cases(
            order_id=order_id, channel=channel, kind=kind, state=state, limit=limit, offset=offset
        )
