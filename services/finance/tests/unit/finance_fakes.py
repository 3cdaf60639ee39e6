"""An in-memory store.Repository and test data, for running finance's use cases in a FakeUnitOfWork.

(Named finance_fakes, not fakes: every service's tests run in one process, and modules are cached by name.)
"""

from __future__ import annotations

import copy
import uuid
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from omni_chassis.uow import FakeUnitOfWork
from omni_contracts import Envelope, EventPayload, make_envelope
from omni_contracts.events.fulfillment import PickedUpV2, ShippedLine, ShippedV1, ShippedV2
from omni_contracts.events.order import OrderAcceptedV1, OrderCancelledV1, OrderLine, ShipTo
from omni_finance import service
from omni_finance.domain.accounts import CHART
from omni_finance.domain.credit import Receivable
from omni_finance.domain.freight import CarrierCost, Parcel
from omni_finance.domain.merge import MergedOrder
from omni_finance.domain.posting import OrderState
from omni_finance.domain.vouchers import Voucher
from omni_finance.store import Writes, order_key

T0 = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
PARKED_AT = datetime(2026, 11, 27, 7, 0, tzinfo=UTC)  # when the fake says any parked event was parked


class DuplicateVoucher(Exception):
    """UNIQUE(source_event_id, kind, order_id) on vouchers, as the database enforces it."""


class FakeRepository:
    """store.Repository in memory. begin/commit/rollback (called by FakeUnitOfWork) snapshot and restore the
    state, so a use case that fails leaves nothing half-applied."""

    def __init__(self) -> None:
        self.orders: dict[str, OrderState] = {}
        self.accepted_event: dict[str, UUID] = {}
        self.vouchers: list[Voucher] = []
        self.shipments: dict[tuple[str, str], dict[str, Any]] = {}  # (task id, order id) -> row
        self.merged: dict[str, MergedOrder] = {}
        self.receivables: dict[str, Receivable] = {}
        self.costs: dict[str, CarrierCost] = {}  # carrier_costs: task id -> choice in force
        self.parked: dict[str, list[Envelope[Any]]] = {}  # the unit of work's parked events (attach())
        self._snapshot: Any = None

    def attach(self, uow: FakeUnitOfWork[Any]) -> None:
        self.parked = uow.parked

    # -- transaction ---------------------------------------------------------------------------------------
    def _state(self) -> tuple[Any, ...]:
        return (
            self.orders,
            self.accepted_event,
            self.vouchers,
            self.shipments,
            self.merged,
            self.receivables,
            self.costs,
        )

    def begin(self) -> None:
        self._snapshot = copy.deepcopy(self._state())

    def commit(self) -> None:
        self._snapshot = None

    def rollback(self) -> None:
        if self._snapshot is not None:
            (self.orders, self.accepted_event, self.vouchers, self.shipments, self.merged,
             self.receivables, self.costs) = self._snapshot  # fmt: skip
        self._snapshot = None

    # -- what the use cases call ---------------------------------------------------------------------------
    async def load_orders(self, order_ids: Any, *, with_sale_lines: bool = False) -> dict[str, OrderState]:
        return {i: copy.deepcopy(self.orders[i]) for i in sorted(set(order_ids)) if i in self.orders}

    async def parked_orders(self, order_ids: Any) -> dict[str, datetime]:
        return {o: PARKED_AT for o in order_ids if self.parked.get(order_key(o))}

    async def load_merged(self, order_ids: Any) -> dict[str, MergedOrder]:
        return {i: self.merged[i] for i in sorted(set(order_ids)) if i in self.merged}

    async def load_receivables(self, order_ids: Any) -> dict[str, Receivable]:
        return {
            i: copy.deepcopy(self.receivables[i]) for i in sorted(set(order_ids)) if i in self.receivables
        }

    async def posted_vouchers(self, ids: Any) -> set[UUID]:
        return {v.voucher_id for v in self.vouchers if v.voucher_id in set(ids)}

    async def list_receivables(
        self, *, credit_account: str | None, status: str | None, limit: int, offset: int
    ) -> tuple[list[Receivable], int]:
        far = datetime.max.replace(tzinfo=UTC)
        found = sorted(
            (r for r in self.receivables.values()
             if credit_account in (None, r.credit_account) and status in (None, r.status.value)),
            key=lambda r: (r.due_at or far, r.order_id),
        )  # fmt: skip
        return [copy.deepcopy(r) for r in found[offset : offset + limit]], len(found)

    async def load_freight(self, task_ids: Any) -> tuple[dict[str, CarrierCost], dict[str, list[Parcel]]]:
        ids = set(task_ids)
        parcels: dict[str, list[Parcel]] = {}
        for (task, order_id), row in sorted(self.shipments.items()):
            if task in ids:
                parcels.setdefault(task, []).append(Parcel(order_id, row["carrier"], row["goods_cents"]))
        return {t: copy.deepcopy(c) for t, c in self.costs.items() if t in ids}, parcels

    async def order_exists(self, order_id: str) -> bool:
        return order_id in self.orders or order_id in self.merged

    async def save(self, w: Writes, now: datetime) -> None:
        for n in w.new_merged:
            if n.merged.order_id in self.merged:
                raise DuplicateVoucher(f"merged_orders_pkey: {n.merged.order_id}")
            self.merged[n.merged.order_id] = n.merged
        for oid in w.renewed:
            self.receivables.pop(oid, None)
        for oid, n in [*w.new.items(), *w.renewed.items()]:
            self.orders[oid] = copy.deepcopy(n.order)
            self.accepted_event[oid] = n.accepted_event_id
        for oid in w.changed - set(w.new) - set(w.renewed):
            self.orders[oid] = copy.deepcopy(w.orders[oid])
        taken = {(v.source_event_id, v.kind, v.order_id) for v in self.vouchers}
        ids = {v.voucher_id for v in self.vouchers}
        for v in w.vouchers:
            if (v.source_event_id, v.kind, v.order_id) in taken:
                raise DuplicateVoucher(f"vouchers_source_kind: {v.source_event_id} {v.kind} {v.order_id}")
            if v.voucher_id in ids:
                raise DuplicateVoucher(f"vouchers_pkey: {v.voucher_id}")
            taken.add((v.source_event_id, v.kind, v.order_id))
            ids.add(v.voucher_id)
            self.vouchers.append(v)
        for oid in w.new_receivables:
            if oid in self.receivables:
                raise DuplicateVoucher(f"receivables_pkey: {oid}")
        for oid in w.new_receivables | w.changed_receivables:
            if oid in w.receivables and (oid in w.new_receivables or oid in self.receivables):
                self.receivables[oid] = copy.deepcopy(w.receivables[oid])
        for row in w.shipments:
            self.shipments[(row["task_id"], row["order_id"])] = dict(row)
        for t in w.changed_costs:
            self.costs[t] = copy.deepcopy(w.costs[t])

    async def list_vouchers(
        self, *, order_id: str | None, kind: str | None, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        found = [
            v
            for v in self.vouchers
            if (order_id is None or v.order_id == order_id) and (kind is None or v.kind.value == kind)
        ]
        return [_row(v) for v in found[offset : offset + limit]], len(found)

    async def get_voucher(self, voucher_id: UUID) -> dict[str, Any] | None:
        return next((_row(v) for v in self.vouchers if v.voucher_id == voucher_id), None)

    async def list_accounts(self, *, limit: int, offset: int) -> tuple[list[dict[str, Any]], int]:
        rows = [
            {"code": a.code, "name": a.name, "type": a.type.value, "normal_side": a.normal_side.value}
            for a in sorted(CHART.values(), key=lambda a: a.code)
        ]
        return rows[offset : offset + limit], len(rows)

    async def account_totals(self, *, currency: str, order_id: str | None) -> list[tuple[Any, ...]]:
        sums = {code: [0, 0] for code in CHART}
        for v in self.vouchers:
            if v.currency == currency and (order_id is None or v.order_id == order_id):
                for x in v.lines:
                    sums[x.account_code][0] += x.debit_cents
                    sums[x.account_code][1] += x.credit_cents
        return [
            (a.code, a.name, a.type.value, a.normal_side.value, *sums[a.code])
            for a in sorted(CHART.values(), key=lambda a: a.code)
        ]


def _row(v: Voucher) -> dict[str, Any]:
    return {
        "voucher_id": v.voucher_id,
        "order_id": v.order_id,
        "kind": v.kind.value,
        "source_event_id": v.source_event_id,
        "source_event_type": v.source_event_type,
        "summary": v.summary,
        "currency": v.currency,
        "total_cents": v.total_cents,
        "reverses_voucher_id": v.reverses_voucher_id,
        "posted_at": v.posted_at,
        "lines": [
            {"line_no": i, "account_code": x.account_code, "account_name": CHART[x.account_code].name,
             "debit_cents": x.debit_cents, "credit_cents": x.credit_cents}
            for i, x in enumerate(v.lines, 1)
        ],
    }  # fmt: skip


def new_uow() -> tuple[FakeUnitOfWork[FakeRepository], FakeRepository]:
    repo = FakeRepository()
    uow = FakeUnitOfWork(repo)
    uow.consumer = "finance-test"
    repo.attach(uow)
    return uow, repo


async def handle(uow: FakeUnitOfWork[Any], *envs: Envelope[Any]) -> None:
    """Each event through its consumer's use case, as one batch per consumer (each use case filters)."""
    await service.handle_order_events(uow, list(envs))
    await service.handle_shipments(uow, list(envs))


async def apply_released(uow: FakeUnitOfWork[Any]) -> list[Envelope[Any]]:
    """What the chassis parking loop does: every released event again, one by one, in the order parked, each
    knowing when it was parked (`uow.first_parked`). Until nothing more is released."""
    done: list[Envelope[Any]] = []
    while released := uow.take_released():
        for env in released:
            uow.first_parked = {env.event_id: PARKED_AT}  # type: ignore[attr-defined]
            try:
                await handle(uow, env)
            finally:
                uow.first_parked = {}  # type: ignore[attr-defined]
            done.append(env)
    return done


# -- test data ---------------------------------------------------------------------------------------------
def uid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def env(data: EventPayload) -> Envelope[Any]:
    return make_envelope(data, producer="test", key=data.order_id)


# A coffee set (beans 3 x 1 + machine) for 1,000.00 (weights 1:1:1:7) plus 3 filters for 10.00; freight 10.00
LINES = [
    ("BEAN-YIRGA", 1, 10_000),
    ("BEAN-HUILA", 1, 10_000),
    ("BEAN-MANDHELING", 1, 10_000),
    ("MACHINE-AUTO", 1, 70_000),
    ("FILTER-100", 3, 1_000),
]
GOODS = sum(a for _, _, a in LINES)
FREIGHT = 1_000
ALL = [(m, q) for m, q, _ in LINES]


def accepted(order_id: str, *, post_fee: int = FREIGHT) -> Envelope[Any]:
    return env(
        OrderAcceptedV1(
            order_id=order_id,
            channel="tmall",
            shop_id="S1",
            channel_order_id=uid("T"),
            ship_to=ShipTo(name="someone"),
            lines=[
                OrderLine(
                    line_id=f"{order_id}-{i}",
                    channel_line_id="C1",
                    sales_product_code="P",
                    material_code=m,
                    qty=q,
                    amount_cents=a,
                )
                for i, (m, q, a) in enumerate(LINES, 1)
            ],
            goods_paid_cents=GOODS,
            paid_cents=GOODS + post_fee,
            post_fee_cents=post_fee,
        )
    )


def shipped_v1(order_id: str, lines: list[tuple[str, int]], task_id: str | None = None) -> Envelope[Any]:
    return env(
        ShippedV1(
            task_id=task_id or uid("task"),
            order_id=order_id,
            node_code="WH-1",
            reservation_id=uid("r"),
            carrier="SF",
            tracking_no=uid("SF"),
            shipped_at=T0,
            lines=[{"material_code": m, "qty": q} for m, q in lines],
        )
    )


def shipped(order_id: str, lines: list[tuple[str, int, str]], task_id: str | None = None) -> Envelope[Any]:
    """v2: (material, qty, line_id) per line."""
    return env(
        ShippedV2(
            task_id=task_id or uid("task"),
            order_id=order_id,
            node_code="WH-1",
            reservation_id=uid("r"),
            carrier="SF",
            tracking_no=uid("SF"),
            shipped_at=T0,
            lines=[ShippedLine(material_code=m, qty=q, line_id=li) for m, q, li in lines],
        )
    )


def picked_up(order_id: str, lines: list[tuple[str, int, str]]) -> Envelope[Any]:
    return env(
        PickedUpV2(
            task_id=uid("task"),
            order_id=order_id,
            node_code="STORE-1",
            reservation_id=uid("r"),
            picked_up_at=T0,
            lines=[ShippedLine(material_code=m, qty=q, line_id=li) for m, q, li in lines],
        )
    )


def all_lines(order_id: str) -> list[tuple[str, int, str]]:
    return [(m, q, f"{order_id}-{i}") for i, (m, q, _) in enumerate(LINES, 1)]


def cancelled(order_id: str) -> Envelope[Any]:
    return env(OrderCancelledV1(order_id=order_id, reason="buyer asked"))


def sides(v: Voucher) -> list[tuple[str, int, int]]:
    return [(x.account_code, x.debit_cents, x.credit_cents) for x in v.lines]
