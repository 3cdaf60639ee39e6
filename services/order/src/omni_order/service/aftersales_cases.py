"""What the after-sales use cases share: a case being changed in a unit of work (its columns, its history
row), the rows and event lines built from a money split, and the new outbound order of a reship or an
exchange."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from omni_contracts import Envelope
from omni_contracts.events.aftersales import RefundedLine, ReturnLine

from ..domain import aftersales as d
from ..domain.aftersales import Kind, State
from ..domain.ids import new_order_id
from ..domain.status import Status
from .journal import OrderUow, StatusJournal
from .records import accepted_event, receiver_moved

SHIPPED = (Status.PARTIALLY_SHIPPED, Status.SHIPPED, Status.COMPLETED)


def new_case_id() -> str:
    """ "AS" + the order id's sortable 20 hex digits."""
    return "AS" + new_order_id()[1:]


def case_row(
    case_id: str,
    order: dict[str, Any],
    kind: Kind,
    state: State,
    source: str,
    now: datetime,
    *,
    refund_id: str | None = None,
    channel_status: str | None = None,
    reason: str = "",
) -> dict[str, Any]:
    return {
        "case_id": case_id, "order_id": order["order_id"], "channel": order["channel"],
        "shop_id": order["shop_id"], "channel_order_id": order["channel_order_id"],
        "channel_refund_id": refund_id, "kind": kind.value, "state": state.value, "source": source,
        "channel_status": channel_status, "currency": order["currency"], "refund_cents": 0,
        "goods_refund_cents": 0, "freight_refund_cents": 0, "money_done": False, "node_code": None,
        "outbound_order_id": None, "reason": reason[:500], "created_at": now, "updated_at": now,
    }  # fmt: skip


@dataclass
class Case:
    """A case row locked (or just inserted) in this unit of work; `record` writes its state and history."""

    uow: OrderUow
    row: dict[str, Any]
    now: datetime
    cause: Envelope[Any] | None = None
    cols: dict[str, Any] = field(default_factory=dict)
    split: list[d.SplitLine] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.state = State(self.row["state"])

    @property
    def id(self) -> str:
        return str(self.row["case_id"])

    @property
    def kind(self) -> Kind:
        return Kind(self.row["kind"])

    @property
    def money_done(self) -> bool:
        return bool(self.cols.get("money_done", self.row["money_done"]))

    def move(self, to: State) -> State:
        """A checked move (an operator's action); returns the state it left."""
        frm = self.state
        d.check_move(self.kind, frm, to, self.id)
        self.state = to
        return frm

    async def record(
        self,
        frm: State | None,
        to: State,
        note: str,
        *,
        platform_status: str | None = None,
        channel_status: str | None = None,
    ) -> None:
        self.cols.update(state=self.state.value, updated_at=self.now)
        await self.uow.repo.update_case(self.id, self.cols)
        self.row.update(self.cols)
        self.cols = {}
        await self.uow.repo.add_case_history(
            {"case_id": self.id, "from_state": frm.value if frm else None, "to_state": to.value,
             "platform_status": platform_status, "channel_status": channel_status,
             "source": "channel" if self.cause else "api", "note": note[:500],
             "cause_event_id": self.cause.event_id if self.cause else None, "at": self.now}
        )  # fmt: skip


async def material_lines(uow: OrderUow, order_id: str, *, but: str | None = None) -> list[d.MaterialLine]:
    """The order's material lines, with what its other cases already refunded of each."""
    done = await uow.repo.refunded_by_line(order_id, but=but)
    return [
        d.MaterialLine(x["line_id"], x["channel_line_id"], x["material_code"], x["qty"], x["amount_cents"],
                       *done.get(x["line_id"], (0, 0)))
        for x in (await uow.repo.material_lines([order_id]))[order_id]
    ]  # fmt: skip


def line_rows(
    case_id: str, split: Sequence[d.SplitLine], channel_line: dict[str, str]
) -> list[dict[str, Any]]:
    return [
        {"case_id": case_id, "line_id": x.line_id, "channel_line_id": channel_line[x.line_id],
         "material_code": x.material_code, "qty": x.qty, "refund_cents": x.refund_cents,
         "good_qty": 0, "defective_qty": 0}
        for x in split
    ]  # fmt: skip


def refunded_lines(split: Sequence[d.SplitLine]) -> list[RefundedLine]:
    return [RefundedLine(line_id=x.line_id, material_code=x.material_code, qty=x.qty,
                         refund_cents=x.refund_cents) for x in split if x.qty or x.refund_cents]  # fmt: skip


def return_lines(rows: Sequence[dict[str, Any]]) -> list[ReturnLine]:
    return [ReturnLine(line_id=x["line_id"], material_code=x["material_code"], qty=x["qty"]) for x in rows]


async def outbound_order(
    uow: OrderUow, case: Case, order: dict[str, Any], lines: Sequence[tuple[dict[str, Any], int]], what: str
) -> str:
    """A new order of 0 paid sending `lines` (order line rows, units) to the original buyer, accepted at once:
    order.accepted is all fulfillment and finance need. It carries the original platform order id, so the
    channel treats its parcel as a later one of that order; the row's own channel order id is
    `<original>#<what>-<case id>` (unique per channel)."""
    new_id = new_order_id()
    row = dict(order)
    row.update(
        order_id=new_id, channel_order_id=f"{order['channel_order_id']}#{what}-{case.id}",
        status=Status.RECEIVED.value, status_reason_code=None, status_reason=None, recorded_at=case.now,
        updated_at=case.now, completed_at=None, cancelled_at=None, duplicate_deliveries=0,
        last_duplicate_at=None, goods_cents=0, discount_cents=0, post_fee_cents=0, paid_cents=0,
        goods_paid_cents=0, buyer_message=f"{what} of order {order['order_id']} (after-sales {case.id})",
        **receiver_moved(order, new_id),  # sealed with the order id as associated data: bound to the new one
    )  # fmt: skip
    await uow.repo.insert_new_orders([row])
    new_lines = [
        {"line_id": f"{new_id}-{i:03d}", "order_id": new_id, "position": i,
         "channel_line_id": x["channel_line_id"], "sales_product_code": x["sales_product_code"],
         "material_code": x["material_code"], "qty": qty, "amount_cents": 0}
        for i, (x, qty) in enumerate(lines, 1)
    ]  # fmt: skip
    await uow.repo.add_lines(new_lines)
    journal = StatusJournal(uow, "api", at=case.now)
    journal.created(new_id, f"{what} for after-sales case {case.id}", case.cause)
    journal.transition(row, Status.ACCEPTED, reason=f"{what} of order {order['order_id']}", cause=case.cause)
    event = accepted_event(row, new_lines).model_copy(update={"channel_order_id": order["channel_order_id"]})
    uow.emit(event, key=new_id, cause=case.cause)
    case.cols["outbound_order_id"] = new_id
    return new_id
