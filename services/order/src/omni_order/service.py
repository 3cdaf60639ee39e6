"""Use cases: the one place that orchestrates domain, store and outbox.

- `project_catalog`: omni.product events -> the catalog projection (newer versions only);
- `intake`: channel orders -> deduplicated, decomposed orders (accepted or exception), one batch at a time;
- `follow_fulfillment`: fulfillment events drive the order through sourcing, allocation, shipment, completion;
- `cancel`, `get_order`, `list_orders`: what the REST API calls.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omni_chassis.consumer import PermanentError
from omni_chassis.logging import get_logger
from omni_chassis.outbox import build, stage
from omni_contracts import Envelope, EventPayload, utcnow
from omni_contracts.events.channel import ChannelOrderReceivedV1
from omni_contracts.events.order import (
    OrderAcceptedV1,
    OrderCancelledV1,
    OrderCompletedV1,
    OrderExceptionRaisedV1,
    OrderLine,
    OrderStatusChangedV1,
    ShipTo,
)

from . import store
from .domain.geo import geocode
from .domain.ids import new_order_id
from .domain.intake import (
    UNFULFILLABLE,
    IntakePlan,
    LineRef,
    TaskLine,
    assign_nodes,
    plan_intake,
    roles_for,
)
from .domain.status import DomainError, Reaction, Status, check_transition, react

log = get_logger(__name__)


class OrderNotFound(DomainError):
    """No such order (404 at the API)."""


# -- a batch of changes: transitions, history, events; written with a handful of statements ------
@dataclass
class Changes:
    at: datetime
    source: str
    history: list[dict[str, Any]] = field(default_factory=list)
    envelopes: list[tuple[Envelope[Any], Envelope[Any] | None]] = field(default_factory=list)
    updates: dict[str, dict[str, Any]] = field(default_factory=dict)

    def transition(
        self,
        order: dict[str, Any],
        to: Status,
        *,
        reason_code: str | None = None,
        reason: str = "",
        cause: Envelope[Any] | None = None,
    ) -> None:
        """Move `order` (a dict with order_id and status) to `to`, or raise IllegalTransition."""
        order_id = order["order_id"]
        frm = Status(order["status"])
        check_transition(frm, to, order_id)
        cols = {
            "status": to.value,
            "status_reason_code": reason_code,
            "status_reason": reason or None,
            "updated_at": self.at,
        }
        order.update(cols)
        self.set(order_id, **cols)
        self.history.append(self._history(order_id, frm.value, to.value, reason_code, reason, cause))
        self.emit(
            OrderStatusChangedV1(order_id=order_id, from_status=frm.value, to_status=to.value, reason=reason),
            key=order_id,
            cause=cause,
        )

    def created(self, order_id: str, reason: str, cause: Envelope[Any] | None) -> None:
        self.history.append(self._history(order_id, None, Status.RECEIVED.value, None, reason, cause))

    def _history(
        self,
        order_id: str,
        frm: str | None,
        to: str,
        code: str | None,
        reason: str,
        cause: Envelope[Any] | None,
    ) -> dict[str, Any]:
        return {
            "order_id": order_id,
            "from_status": frm,
            "to_status": to,
            "reason_code": code,
            "reason": reason,
            "source": self.source,
            "cause_event_id": cause.event_id if cause else None,
            "at": self.at,
        }

    def set(self, order_id: str, **cols: Any) -> None:
        self.updates.setdefault(order_id, {}).update(cols)

    def emit(self, data: EventPayload, *, key: str, cause: Envelope[Any] | None) -> None:
        self.envelopes.append((build(data, key=key, cause=cause), cause))

    def keep_only(self, order_ids: set[str]) -> None:
        self.history = [h for h in self.history if h["order_id"] in order_ids]
        self.envelopes = [(e, c) for e, c in self.envelopes if e.key in order_ids]
        self.updates = {k: v for k, v in self.updates.items() if k in order_ids}

    async def flush(self, session: AsyncSession, *, update_orders: bool = True) -> None:
        if update_orders:
            await store.update_orders(session, self.updates)
        await store.insert_rows(session, store.order_status_history, self.history)
        await stage(session, self.envelopes)


# -- catalog projection --------------------------------------------------------------------------
async def project_catalog(session: AsyncSession, envs: Sequence[Envelope[Any]]) -> dict[str, int]:
    """Upsert materials, sales products and listings; an event not newer than what is stored is ignored."""
    now = utcnow()
    mats: list[dict[str, Any]] = []
    prods: list[dict[str, Any]] = []
    listings: list[dict[str, Any]] = []
    for env in envs:
        d = env.data
        if env.event_type == "product.material.upserted":
            mats.append(_columns(d, store.materials) | {"updated_at": now})
        elif env.event_type == "product.sales-product.upserted":
            components = [c.model_dump() for c in d.components]
            prods.append(_columns(d, store.sales_products) | {"updated_at": now, "components": components})
        elif env.event_type == "product.channel-listing.upserted":
            listings.append(_columns(d, store.channel_listings) | {"updated_at": now})
    written = (
        len(await store.upsert_materials(session, mats))
        + len(await store.upsert_sales_products(session, prods))
        + len(await store.upsert_listings(session, listings))
    )
    received = len(mats) + len(prods) + len(listings)
    log.info("catalog projected", received=received, written=written, stale_or_repeated=received - written)
    return {"received": received, "written": written}


def _columns(payload: EventPayload, table: Any) -> dict[str, Any]:
    """The payload's fields that are columns of `table` (fields added to the contract later are left out)."""
    return payload.model_dump(include=set(table.c.keys()))


# -- intake --------------------------------------------------------------------------------------
@dataclass
class IntakeResult:
    accepted: list[str] = field(default_factory=list)
    exceptions: list[str] = field(default_factory=list)
    duplicates: int = 0


async def intake(
    session: AsyncSession, envs: Sequence[Envelope[Any]], *, new_id: Callable[[], str] = new_order_id
) -> IntakeResult:
    """Turn a batch of channel orders into orders: one query per catalog table, one insert per table."""
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

    shops = {(e.data.channel, e.data.shop_id) for e in firsts.values()}
    items = {line.channel_item_id for e in firsts.values() for line in e.data.lines}
    outers = {
        x for e in firsts.values() for line in e.data.lines for x in (line.outer_sku_id, line.outer_iid) if x
    }
    catalog = await store.load_catalog(session, shops, items, outers)

    changes = Changes(now, "intake")
    order_rows: list[dict[str, Any]] = []
    channel_rows: list[dict[str, Any]] = []
    line_rows: list[dict[str, Any]] = []
    outcome: dict[str, tuple[tuple[str, str], IntakePlan]] = {}
    for key, env in firsts.items():
        d = env.data
        order_id = new_id()
        plan = plan_intake(d, catalog)
        outcome[order_id] = (key, plan)
        row = _order_row(order_id, d, plan, now)
        order_rows.append(row)
        channel_rows.extend(_channel_line_rows(order_id, d, plan))
        mine = _material_line_rows(order_id, plan)
        line_rows.extend(mine)
        changes.created(order_id, f"received from {d.channel} shop {d.shop_id}", env)
        if plan.accepted:
            changes.transition(row, Status.ACCEPTED, cause=env)
            changes.emit(_accepted_event(row, mine), key=order_id, cause=env)
        else:
            changes.transition(
                row, Status.EXCEPTION, reason_code=plan.reason_code, reason=plan.reason, cause=env
            )
            changes.emit(
                OrderExceptionRaisedV1(
                    order_id=order_id, channel=d.channel, channel_order_id=d.channel_order_id,
                    reason_code=plan.reason_code or "", reason=plan.reason,
                ),
                key=order_id,
                cause=env,
            )  # fmt: skip

    inserted = await store.insert_new_orders(session, order_rows)
    result = IntakeResult()
    for order_id, (key, plan) in outcome.items():
        if order_id in inserted:
            (result.accepted if plan.accepted else result.exceptions).append(order_id)
            if not plan.accepted:
                log.warning(
                    "order held in exception",
                    order_id=order_id, channel=key[0], channel_order_id=key[1],
                    reason_code=plan.reason_code, reason=plan.reason,
                )  # fmt: skip
        else:
            dupes[key] += 1
    await store.insert_rows(
        session, store.order_channel_lines, [r for r in channel_rows if r["order_id"] in inserted]
    )
    await store.insert_rows(session, store.order_lines, [r for r in line_rows if r["order_id"] in inserted])
    await store.count_duplicates(session, dict(dupes), now)
    changes.keep_only(inserted)
    await changes.flush(session, update_orders=False)
    result.duplicates = sum(dupes.values())
    log.info(
        "channel orders taken in",
        received=len(envs), accepted=len(result.accepted), exceptions=len(result.exceptions),
        duplicates=result.duplicates,
    )  # fmt: skip
    return result


def _line_id(order_id: str, position: int) -> str:
    return f"{order_id}-{position:03d}"


def _order_row(order_id: str, d: ChannelOrderReceivedV1, plan: IntakePlan, now: datetime) -> dict[str, Any]:
    roles = roles_for(d)
    r = d.receiver
    geo = geocode(r.city, r.state)
    inv = d.invoice
    return {
        "order_id": order_id,
        "channel": d.channel,
        "shop_id": d.shop_id,
        "channel_order_id": d.channel_order_id,
        "channel_status": d.channel_status,
        "business_model": d.business_model,
        "buyer_id": d.buyer_id,
        "role_owner": roles.owner,
        "role_seller": roles.seller,
        "role_channel": roles.channel,
        "role_fulfiller": roles.fulfiller,
        "role_platform": roles.platform,
        "buyer_message": d.buyer_message,
        "created_at": d.created_at,
        "paid_at": d.paid_at,
        "received_at": d.received_at,
        "recorded_at": now,
        "duplicate_deliveries": 0,
        "last_duplicate_at": None,
        "status": Status.RECEIVED.value,
        "status_reason_code": None,
        "status_reason": None,
        "updated_at": now,
        "completed_at": None,
        "cancelled_at": None,
        "delivery": d.delivery,
        "pickup_node": d.pickup_node,
        "receiver_name": r.name,
        "receiver_phone": r.phone,
        "country": r.country,
        "state": r.state,
        "city": r.city,
        "district": r.district,
        "town": r.town,
        "address_detail": r.detail,
        "zip": r.zip,
        "lat": geo[0] if geo else None,
        "lng": geo[1] if geo else None,
        "currency": d.currency,
        "goods_cents": d.goods_cents,
        "discount_cents": d.discount_cents,
        "post_fee_cents": d.post_fee_cents,
        "paid_cents": d.paid_cents,
        "goods_paid_cents": plan.goods_paid_cents,
        "invoice_kind": inv.kind if inv else None,
        "invoice_title": inv.title if inv else None,
        "invoice_tax_id": inv.tax_id if inv else None,
    }


def _channel_line_rows(order_id: str, d: ChannelOrderReceivedV1, plan: IntakePlan) -> list[dict[str, Any]]:
    return [
        {
            "order_id": order_id,
            "position": m.position,
            "channel_line_id": line.channel_line_id,
            "channel_item_id": line.channel_item_id,
            "channel_sku_id": line.channel_sku_id,
            "outer_sku_id": line.outer_sku_id,
            "outer_iid": line.outer_iid,
            "title": line.title,
            "qty": line.qty,
            "unit_price_cents": line.unit_price_cents,
            "discount_cents": line.discount_cents,
            "paid_cents": line.paid_cents,
            "listing_id": m.listing_id,
            "sales_product_code": m.sales_product_code,
        }
        for line, m in zip(d.lines, plan.matches, strict=True)
    ]


def _ship_to(row: dict[str, Any]) -> ShipTo:
    return ShipTo(
        name=row["receiver_name"],
        phone=row["receiver_phone"],
        state=row["state"],
        city=row["city"],
        district=row["district"],
        detail=f"{row['town']}{row['address_detail']}",
        lat=row["lat"],
        lng=row["lng"],
    )


def _material_line_rows(order_id: str, plan: IntakePlan) -> list[dict[str, Any]]:
    return [
        {"line_id": _line_id(order_id, pl.position), "order_id": order_id, "position": pl.position,
         "channel_line_id": pl.channel_line_id, "sales_product_code": pl.sales_product_code,
         "material_code": pl.material_code, "qty": pl.qty, "amount_cents": pl.amount_cents}
        for pl in plan.lines
    ]  # fmt: skip


def _accepted_event(row: dict[str, Any], lines: list[dict[str, Any]]) -> OrderAcceptedV1:
    """order.accepted from the stored order row and its material line rows."""
    return OrderAcceptedV1(
        order_id=row["order_id"],
        channel=row["channel"],
        shop_id=row["shop_id"],
        channel_order_id=row["channel_order_id"],
        business_model=row["business_model"],
        delivery=row["delivery"],
        pickup_node=row["pickup_node"],
        ship_to=_ship_to(row),
        lines=[OrderLine.model_validate(x) for x in lines],
        goods_paid_cents=row["goods_paid_cents"],
        post_fee_cents=row["post_fee_cents"],
        paid_cents=row["paid_cents"],
        currency=row["currency"],
        paid_at=row["paid_at"],
    )


# -- following fulfillment -----------------------------------------------------------------------
FULFILLMENT_TARGETS: dict[str, Status] = {
    "fulfillment.reservation-requested": Status.SOURCING,
    "fulfillment.order-allocated": Status.ALLOCATED,
    "fulfillment.order-unfulfillable": Status.EXCEPTION,
    "fulfillment.shipped": Status.SHIPPED,
    "fulfillment.picked-up": Status.SHIPPED,
    "fulfillment.order-fulfilled": Status.COMPLETED,
}


async def follow_fulfillment(session: AsyncSession, envs: Sequence[Envelope[Any]]) -> None:
    """Apply a batch of fulfillment events, in order, to the orders they name (locked once each)."""
    envs = [e for e in envs if e.event_type in FULFILLMENT_TARGETS]
    if not envs:
        return
    now = utcnow()
    orders = await store.lock_orders(session, {e.data.order_id for e in envs})
    allocated_ids = {e.data.order_id for e in envs if e.event_type == "fulfillment.order-allocated"}
    lines = await store.material_lines(session, allocated_ids) if allocated_ids else {}
    changes = Changes(now, "fulfillment")
    allocations: dict[str, list[dict[str, Any]]] = {}
    shipments: list[dict[str, Any]] = []

    for env in envs:
        d = env.data
        order = orders.get(d.order_id)
        if order is None:
            raise PermanentError(f"{env.event_type} names order {d.order_id}, which this OMS does not know")
        current, target = Status(order["status"]), FULFILLMENT_TARGETS[env.event_type]
        reaction = react(current, target)
        if reaction == Reaction.CONFLICT:
            raise PermanentError(
                f"{env.event_type} for order {d.order_id} contradicts its status {current}: "
                f"the order cannot go from {current} to {target}"
            )
        if env.event_type == "fulfillment.shipped":
            shipments.append(
                {"order_id": d.order_id, "task_id": d.task_id, "node_code": d.node_code, "kind": "ship",
                 "carrier": d.carrier, "tracking_no": d.tracking_no, "at": d.shipped_at}
            )  # fmt: skip
        elif env.event_type == "fulfillment.picked-up":
            shipments.append(
                {"order_id": d.order_id, "task_id": d.task_id, "node_code": d.node_code, "kind": "pickup",
                 "carrier": None, "tracking_no": None, "at": d.picked_up_at}
            )  # fmt: skip
        if reaction == Reaction.IGNORE:
            log.info(
                "fulfillment event ignored: the order is already past it",
                order_id=d.order_id, status=str(current), wanted=str(target),
            )  # fmt: skip
            continue

        if env.event_type == "fulfillment.order-allocated":
            refs = [LineRef(x["line_id"], x["material_code"], x["qty"]) for x in lines.get(d.order_id, [])]
            tasks = [
                TaskLine(t.task_id, t.node_code, t.reservation_id, m.material_code, m.qty)
                for t in d.tasks
                for m in t.lines
            ]
            assigned, problems = assign_nodes(refs, tasks)
            if problems:
                log.warning(
                    "allocation does not match the order's lines", order_id=d.order_id, problems=problems
                )
            allocations[d.order_id] = [
                {"line_id": a.line_id, "task_id": a.task_id, "order_id": d.order_id, "node_code": a.node_code,
                 "reservation_id": a.reservation_id, "qty": a.qty, "allocated_at": now}
                for a in assigned
            ]  # fmt: skip
            nodes = sorted({t.node_code for t in d.tasks})
            changes.transition(order, Status.ALLOCATED, reason=f"allocated at {', '.join(nodes)}", cause=env)
            changes.set(d.order_id, role_fulfiller=",".join(f"node:{n}" for n in nodes))
        elif env.event_type == "fulfillment.order-unfulfillable":
            changes.transition(order, Status.EXCEPTION, reason_code=UNFULFILLABLE, reason=d.reason, cause=env)
            changes.emit(
                OrderExceptionRaisedV1(
                    order_id=d.order_id, channel=order["channel"], channel_order_id=order["channel_order_id"],
                    reason_code=UNFULFILLABLE, reason=d.reason,
                ),
                key=d.order_id,
                cause=env,
            )  # fmt: skip
        elif env.event_type == "fulfillment.order-fulfilled":
            changes.transition(order, Status.COMPLETED, cause=env)
            changes.set(d.order_id, completed_at=d.fulfilled_at)
            changes.emit(
                OrderCompletedV1(order_id=d.order_id, completed_at=d.fulfilled_at), key=d.order_id, cause=env
            )
        elif env.event_type in ("fulfillment.shipped", "fulfillment.picked-up"):
            how = (
                f"shipped by {d.carrier} ({d.tracking_no})"
                if env.event_type == "fulfillment.shipped"
                else "picked up"
            )
            changes.transition(order, Status.SHIPPED, reason=f"{how} from {d.node_code}", cause=env)
        else:  # reservation requested: sourcing started
            changes.transition(
                order, Status.SOURCING, reason=f"reservation requested at {d.node_code}", cause=env
            )

    if allocations:
        await store.replace_allocations(
            session, allocations, [r for rows in allocations.values() for r in rows]
        )
    await store.upsert_shipments(session, shipments)
    await changes.flush(session)


# -- API use cases -------------------------------------------------------------------------------
async def cancel(session: AsyncSession, order_id: str, reason: str) -> dict[str, Any]:
    order = await store.get_order(session, order_id, for_update=True)
    if order is None:
        raise OrderNotFound(f"no order {order_id}")
    changes = Changes(utcnow(), "api")
    changes.transition(order, Status.CANCELLED, reason_code="cancelled", reason=reason)
    changes.set(order_id, cancelled_at=changes.at)
    changes.emit(OrderCancelledV1(order_id=order_id, reason=reason), key=order_id, cause=None)
    await changes.flush(session)
    log.info("order cancelled", order_id=order_id)
    return await get_order(session, order_id)


class StillBlocked(DomainError):
    """A retried order still cannot be accepted (409 at the API, with every reason)."""


async def retry(session: AsyncSession, order_id: str) -> dict[str, Any]:
    """exception -> accepted, once an operator has fixed the cause (mapped a listing, restocked a node).

    An order stopped at intake is planned again against today's catalog; one that fulfillment gave up on
    keeps its material lines. Either way order.accepted is emitted again, so fulfillment sources it anew.
    """
    order = await store.get_order(session, order_id, for_update=True)
    if order is None:
        raise OrderNotFound(f"no order {order_id}")
    check_transition(Status(order["status"]), Status.ACCEPTED, order_id)
    lines = (await store.material_lines(session, [order_id]))[order_id]
    if not lines:
        channel_lines = await store.channel_lines(session, order_id)
        trade = _trade_from_rows(order, channel_lines)
        catalog = await store.load_catalog(
            session,
            {(trade.channel, trade.shop_id)},
            {x.channel_item_id for x in trade.lines},
            {c for x in trade.lines for c in (x.outer_sku_id, x.outer_iid) if c},
        )
        plan = plan_intake(trade, catalog)
        if not plan.accepted:
            raise StillBlocked(f"order {order_id} still cannot be accepted: {plan.reason}")
        lines = _material_line_rows(order_id, plan)
        await store.insert_rows(session, store.order_lines, lines)
        await store.set_channel_line_matches(
            session, order_id, [(m.position, m.listing_id, m.sales_product_code) for m in plan.matches]
        )
    changes = Changes(utcnow(), "api")
    changes.transition(order, Status.ACCEPTED, reason="retried by an operator")
    changes.emit(_accepted_event(order, lines), key=order_id, cause=None)
    await changes.flush(session)
    log.info("order retried", order_id=order_id)
    return await get_order(session, order_id)


def _trade_from_rows(o: dict[str, Any], channel_lines: list[dict[str, Any]]) -> ChannelOrderReceivedV1:
    """The channel order as it was received, rebuilt from what was stored."""
    return ChannelOrderReceivedV1.model_validate(
        {k: o[k] for k in (
            "channel", "shop_id", "channel_order_id", "channel_status", "business_model", "delivery",
            "pickup_node", "buyer_id", "goods_cents", "discount_cents", "post_fee_cents", "paid_cents",
            "currency", "created_at", "paid_at", "received_at", "buyer_message",
        )}
        | {
            "receiver": {
                "name": o["receiver_name"], "phone": o["receiver_phone"], "country": o["country"],
                "state": o["state"], "city": o["city"], "district": o["district"], "town": o["town"],
                "detail": o["address_detail"], "zip": o["zip"],
            },
            "lines": channel_lines,
        }
    )  # fmt: skip


async def get_order(session: AsyncSession, order_id: str) -> dict[str, Any]:
    order = await store.get_order(session, order_id)
    if order is None:
        raise OrderNotFound(f"no order {order_id}")
    return order_view(order, await store.order_children(session, order_id))


async def get_order_by_channel(session: AsyncSession, channel: str, channel_order_id: str) -> dict[str, Any]:
    order_id = await store.find_order_id(session, channel, channel_order_id)
    if order_id is None:
        raise OrderNotFound(f"no order from {channel} with channel order id {channel_order_id}")
    return await get_order(session, order_id)


async def list_orders(session: AsyncSession, **filters: Any) -> tuple[list[dict[str, Any]], int]:
    return await store.list_orders(session, **filters)


def order_view(o: dict[str, Any], children: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The order in its six dimensions (trade, goods, stock, logistics, money, invoice), plus its history."""
    allocations: dict[str, list[dict[str, Any]]] = {}
    for a in children["allocations"]:
        allocations.setdefault(a["line_id"], []).append(
            {
                "node_code": a["node_code"],
                "qty": a["qty"],
                "task_id": a["task_id"],
                "reservation_id": a["reservation_id"],
            }
        )
    lines = [
        {
            k: x[k]
            for k in (
                "line_id",
                "channel_line_id",
                "sales_product_code",
                "material_code",
                "qty",
                "amount_cents",
            )
        }
        for x in children["lines"]
    ]
    return {
        "order_id": o["order_id"],
        "status": o["status"],
        "status_reason_code": o["status_reason_code"],
        "status_reason": o["status_reason"],
        "trade": {
            k: o[k]
            for k in (
                "channel", "shop_id", "channel_order_id", "channel_status", "business_model", "buyer_id",
                "buyer_message", "created_at", "paid_at", "received_at", "recorded_at", "updated_at",
                "completed_at", "cancelled_at", "duplicate_deliveries", "last_duplicate_at",
            )
        }
        | {"roles": {r: o[f"role_{r}"] for r in ("owner", "seller", "channel", "fulfiller", "platform")}},
        "goods": {
            "channel_lines": [_without_order_id(x) for x in children["channel_lines"]],
            "lines": lines,
        },
        "stock": {
            "lines": [
                {
                    "line_id": x["line_id"],
                    "material_code": x["material_code"],
                    "qty": x["qty"],
                    "allocations": allocations.get(x["line_id"], []),
                }
                for x in lines
            ]
        },
        "logistics": {
            "delivery": o["delivery"],
            "pickup_node": o["pickup_node"],
            "address": {
                "name": o["receiver_name"], "phone": o["receiver_phone"], "country": o["country"],
                "state": o["state"], "city": o["city"], "district": o["district"], "town": o["town"],
                "detail": o["address_detail"], "zip": o["zip"],
            },
            "geo": {"lat": o["lat"], "lng": o["lng"]} if o["lat"] is not None else None,
            "shipments": [_without_order_id(x) for x in children["shipments"]],
        },
        "money": {
            "currency": o["currency"],
            "goods_cents": o["goods_cents"],
            "discount_cents": o["discount_cents"],
            "post_fee_cents": o["post_fee_cents"],
            "paid_cents": o["paid_cents"],
            "goods_paid_cents": o["goods_paid_cents"],
            "allocation": [{"line_id": x["line_id"], "amount_cents": x["amount_cents"]} for x in lines],
        },
        "invoice": (
            {"kind": o["invoice_kind"], "title": o["invoice_title"], "tax_id": o["invoice_tax_id"]}
            if o["invoice_kind"]
            else None
        ),
        "history": [
            {k: h[k] for k in ("from_status", "to_status", "reason_code", "reason", "source", "at")}
            for h in children["history"]
        ],
    }  # fmt: skip


def _without_order_id(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k != "order_id"}


async def get_catalog_listing(session: AsyncSession, listing_id: str) -> dict[str, Any]:
    """The order service's own copy of a channel listing (what intake decomposes with)."""
    row = await store.get_catalog_row(session, store.channel_listings, "listing_id", listing_id)
    if row is None:
        raise OrderNotFound(f"no channel listing {listing_id} in the order service's catalog (yet)")
    return row
