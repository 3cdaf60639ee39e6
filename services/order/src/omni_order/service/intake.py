"""Intake: channel orders become deduplicated, decomposed orders (accepted, or held in exception).

One batch at a time, in one unit of work: one query per catalog table, one insert per order table, whatever
the batch size. A (channel, channel order id) already stored is a duplicate delivery: counted on the order,
nothing created, nothing emitted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import Envelope, utcnow
from omni_contracts.events.channel import ChannelOrderReceivedV1
from omni_contracts.events.order import OrderCancelledV1, OrderExceptionRaisedV1

from ..domain.geo import located_trace
from ..domain.ids import new_order_id
from ..domain.intake import IntakePlan, plan_intake, roles_for
from ..domain.review import Review, hold_rows, merge_key, trace_rows
from ..domain.roles import partners, with_strategy
from ..domain.status import Status, check_transition
from .credit import ToCredit, decide_credit, paid_on_platform, write_taken
from .dispatch import send_to_fulfillment
from .gifts import ToGift, buyer_key, decide_gifts, gift_line_rows, grant_rows
from .journal import OrderUow, StatusJournal, status_columns
from .merge import group_of, merge_trace, open_windows
from .records import channel_line_rows, material_line_rows, order_row
from .review import BALANCE_DUE_TIMER, SHIP_FROM_TIMER, ToReview, balance_paid, review_batch
from .split import split_lines

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
    review: Review | None = None

    @property
    def status(self) -> Status:
        if not self.plan.accepted:
            return Status.EXCEPTION
        if self.review and self.review.cancel:
            return Status.CANCELLED
        return Status.HELD if self.review and self.review.held else Status.ACCEPTED


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
            planned.append(p)
        reviews = await review_batch(
            uow, [ToReview(p.order_id, p.env.data, p.plan) for p in planned if p.plan.accepted], catalog
        )
        for p in planned:
            p.review = reviews.get(p.order_id)
            if p.review:  # where the ship-to was placed, first in the trace (docs/geo.md)
                p.review.trace.insert(0, located_trace(p.row))
        credit = await decide_credit(
            uow, [ToCredit(p.order_id, p.env.data, p.review, p.row) for p in planned if p.review], now
        )
        gifts = await decide_gifts(uow, [
            ToGift(p.order_id, buyer_key(p.env.data.channel, p.env.data.buyer_id), p.plan.lines, p.review)
            for p in planned if p.review is not None and not p.review.cancel
        ], now)  # fmt: skip
        for p in planned:
            if p.order_id in gifts:
                p.lines += gift_line_rows(p.order_id, len(p.plan.lines) + 1, gifts[p.order_id])
            _reviewed_columns(p, now)
        for p in planned:
            if p.review is not None:
                p.row["split_kinds"] = list(p.review.outcome.split_kinds)
                p.review.trace += split_lines(p.lines, catalog, p.review.outcome.split_kinds)
            else:
                p.row["split_kinds"] = []
                split_lines(p.lines, catalog, ())
        waiting = [(p.row, p.review) for p in planned if p.row["merge_group"] and p.review]
        for order_id, said in (await open_windows(uow, waiting)).items():
            merge_trace(reviews[order_id], said)

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
        await write_taken(uow, [credit[p.order_id] for p in new if p.order_id in credit], now)
        await uow.repo.add_decisions(
            [r for p in new if p.review for r in trace_rows(p.order_id, p.review.trace, now)]
        )
        await uow.repo.add_holds(
            [r for p in new if p.review and not p.review.cancel
             for r in hold_rows(p.order_id, p.review.holds, p.review.ruleset_label, now)]
        )  # fmt: skip
        await uow.repo.add_gift_grants(
            [r for p in new if p.order_id in gifts and p.review
             for r in grant_rows(p.order_id, buyer_key(p.env.data.channel, p.env.data.buyer_id),
                                 p.review.ruleset_label, gifts[p.order_id], now)], now,
        )  # fmt: skip
        await uow.repo.count_duplicates(dict(dupes), now)
        repeats = [e for k, e in _repeats(envs, firsts, inserted, planned)]
        await balance_paid(uow, journal, repeats)
        await paid_on_platform(uow, journal, repeats)
        result.duplicates = sum(dupes.values())
    log.info(
        "channel orders taken in",
        received=len(envs), accepted=len(result.accepted), exceptions=len(result.exceptions),
        duplicates=result.duplicates,
    )  # fmt: skip
    return result


def _reviewed_columns(p: _Planned, now: Any) -> None:
    """The order's status columns, and what review set on it (strategy, model, tags, priority)."""
    check_transition(Status.RECEIVED, p.status, p.order_id)
    d = p.env.data
    p.row.update(
        merge_key=merge_key(d) or None,
        presale_stage=getattr(d, "presale_stage", "none"),
        seller_memo=getattr(d, "seller_memo", ""),
        strategy=None,
        tags=[],
        priority=0,
        route_hints=[],
        partners=[],
        merge_group=None,
    )
    if not p.plan.accepted:
        p.row.update(status_columns(p.status, now, p.plan.reason_code, p.plan.reason))
        return
    r = p.review
    assert r is not None
    settings = r.strategy.doc.roles if r.strategy is not None else None
    if r.strategy is not None and r.strategy.doc.business_model:
        p.row["business_model"] = r.strategy.doc.business_model
    if settings is not None or p.row["business_model"] != d.business_model:
        flow = roles_for(d.model_copy(update={"business_model": p.row["business_model"]}))
        p.row.update({f"role_{k}": v for k, v in asdict(with_strategy(flow, settings)).items()})
        p.row["partners"] = partners(settings, list(getattr(d, "distributors", [])))
    p.row.update(
        strategy=r.strategy_label, tags=r.outcome.tags, priority=r.outcome.priority or 0,
        route_hints=[h.model_dump(exclude={"type"}, exclude_none=True) | {"ruleset": r.ruleset_label}
                     for h in r.outcome.route_hints],
    )  # fmt: skip
    r_ = d.receiver
    p.row["merge_group"] = group_of(p.row, r, (r_.state, r_.city, r_.district, r_.town, r_.detail))
    if r.cancel:
        p.row.update(status_columns(p.status, now, r.holds[0].code, r.cancel), cancelled_at=now)
    elif r.held:
        p.row.update(status_columns(p.status, now, r.holds[0].code, r.reason))
    else:
        p.row.update(status_columns(p.status, now))


def _repeats(
    envs: Sequence[Envelope[Any]],
    firsts: dict[tuple[str, str], Envelope[Any]],
    inserted: set[str],
    planned: list[_Planned],
) -> list[tuple[tuple[str, str], Envelope[Any]]]:
    """Deliveries of orders that already existed, or repeated in the batch: the newest per order."""
    new = {p.key for p in planned if p.order_id in inserted}
    last: dict[tuple[str, str], Envelope[Any]] = {}
    for env in envs:
        k = (env.data.channel, env.data.channel_order_id)
        if k not in new or env is not firsts[k]:
            last[k] = env
    return list(last.items())


def _created(uow: OrderUow, journal: StatusJournal, p: _Planned) -> None:
    """History and events of a new order: received, then accepted or held in exception."""
    d: ChannelOrderReceivedV1 = p.env.data
    journal.created(p.order_id, f"received from {d.channel} shop {d.shop_id}", p.env)
    if p.review is not None and p.review.cancel:
        why = p.review.cancel
        journal.record(p.order_id, Status.RECEIVED, Status.CANCELLED, reason_code=p.review.holds[0].code,
                       reason=why, cause=p.env)  # fmt: skip
        uow.emit(OrderCancelledV1(order_id=p.order_id, reason=why), key=p.order_id, cause=p.env)
        log.info("order cancelled at intake", order_id=p.order_id, reason_code=p.review.holds[0].code)
        return
    if p.review is not None and p.review.held:
        r = p.review
        journal.record(
            p.order_id,
            Status.RECEIVED,
            Status.HELD,
            reason_code=r.holds[0].code,
            reason=r.reason,
            cause=p.env,
        )
        if r.ship_from is not None:
            uow.schedule_timer(SHIP_FROM_TIMER, p.order_id, r.ship_from)
        if r.balance_due is not None:
            uow.schedule_timer(BALANCE_DUE_TIMER, p.order_id, r.balance_due)
        log.info("order held for review", order_id=p.order_id, holds=[h.code for h in r.holds])
        return
    if p.plan.accepted:
        journal.record(p.order_id, Status.RECEIVED, Status.ACCEPTED, cause=p.env)
        send_to_fulfillment(uow, p.row, p.lines, cause=p.env)
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
