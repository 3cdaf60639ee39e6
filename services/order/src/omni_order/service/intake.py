"""Intake: channel orders become deduplicated, decomposed orders (accepted, or held in exception).

One batch at a time, in one unit of work: one query per catalog table, one insert per order table, whatever
the batch size. A (channel, channel order id) already stored is a duplicate delivery: counted on the order,
nothing created, nothing emitted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import Envelope, utcnow
from omni_contracts.events.channel import ChannelOrderReceivedV1
from omni_contracts.events.order import OrderExceptionRaisedV1

from ..domain.ids import new_order_id
from ..domain.intake import IntakePlan, plan_intake
from ..domain.status import Status, check_transition
from .journal import OrderUow, StatusJournal, status_columns
from .records import accepted_event, channel_line_rows, material_line_rows, order_row

log = get_logger(__name__)


@dataclass
class IntakeResult:
    accepted: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    duplicates: int = 0


@dataclass
class _Planned:
    order_id: str
    key: tuple[str, str]
    env: Envelope[Any]
    plan: IntakePlan
    row: dict[str, Any]
    lines: list[dict[str, Any]]

    @property
    def status(self) -> Status:
        return Status.ACCEPTED if self.plan.accepted else Status.EXCEPTION


async def intake(
    uow: OrderUow, envs: Sequence[Envelope[Any]], *, new_id: Callable[[], str] = new_order_id
) -> IntakeResult:
    """Turn a batch of channel orders into orders."""
    async with uow:
        now = utcnow()
        firsts: dict[tuple[str, str], Envelope[Any]] = {}
        dupes: Counter[tuple[str, str]] = Counter()
        for env in envs:
            d: ChannelOrderReceivedV1 = env.data
            k = (d.channel, d.channel_order_id)
            if k in firsts:
                dupes[k] += 1
            else:
                firsts[k] = env
        catalog = await uow.repo.load_catalog(
            {(e.data.channel, e.data.shop_id) for e in firsts.values()},
            {line.channel_item_id for e in firsts.values() for line in e.data.lines},
            {
                x
                for e in firsts.values()
                for line in e.data.lines
                for x in (line.outer_sku_id, line.outer_iid)
                if x
            },
        )

        planned: list[_Planned] = []
        for key, env in firsts.items():
            order_id = new_id()
            plan = plan_intake(env.data, catalog)
            p = _Planned(order_id, key, env, plan, order_row(order_id, env.data, plan, now), [])
            p.lines = material_line_rows(order_id, plan)
            check_transition(Status.RECEIVED, p.status, order_id)
            if not plan.accepted:
                p.row.update(status_columns(p.status, now, plan.reason_code, plan.reason))
            else:
                p.row.update(status_columns(p.status, now))
            planned.append(p)

        # the orders are written first: the unique (channel, channel order id) decides what is new
        inserted = await uow.repo.insert_new_orders([p.row for p in planned])
        journal = StatusJournal(uow, "intake", at=now)
        result = IntakeResult()
        for p in planned:
            if p.order_id not in inserted:
                dupes[p.key] += 1
                continue
            _created(uow, journal, p)
            (result.accepted if p.plan.accepted else result.exceptions).append(p.order_id)
        new = [p for p in planned if p.order_id in inserted]
        await uow.repo.add_channel_lines(
            [r for p in new for r in channel_line_rows(p.order_id, p.env.data, p.plan)]
        )
        await uow.repo.add_lines([r for p in new for r in p.lines])
        await uow.repo.count_duplicates(dict(dupes), now)
        result.duplicates = sum(dupes.values())
    log.info(
        "channel orders taken in",
        received=len(envs), accepted=len(result.accepted), exceptions=len(result.exceptions),
        duplicates=result.duplicates,
    )  # fmt: skip
    return result


def _created(uow: OrderUow, journal: StatusJournal, p: _Planned) -> None:
    """History and events of a new order: received, then accepted or held in exception."""
    d: ChannelOrderReceivedV1 = p.env.data
    journal.created(p.order_id, f"received from {d.channel} shop {d.shop_id}", p.env)
    if p.plan.accepted:
        journal.record(p.order_id, Status.RECEIVED, Status.ACCEPTED, cause=p.env)
        uow.emit(accepted_event(p.row, p.lines), key=p.order_id, cause=p.env)
        return
    plan = p.plan
    journal.record(
        p.order_id, Status.RECEIVED, Status.EXCEPTION, reason_code=plan.reason_code, reason=plan.reason,
        cause=p.env,
    )  # fmt: skip
    uow.emit(
        OrderExceptionRaisedV1(
            order_id=p.order_id, channel=d.channel, channel_order_id=d.channel_order_id,
            reason_code=plan.reason_code or "", reason=plan.reason,
        ),
        key=p.order_id,
        cause=p.env,
    )  # fmt: skip
    log.warning(
        "order held in exception",
        order_id=p.order_id, channel=d.channel, channel_order_id=d.channel_order_id,
        reason_code=plan.reason_code, reason=plan.reason,
    )  # fmt: skip
