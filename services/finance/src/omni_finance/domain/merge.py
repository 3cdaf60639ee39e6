"""Merged orders (合单): finance books per SOURCE order, never per merged order.

The OMS merges several platform orders (the sources) of one buyer and address into a new order M, which
fulfillment sources and ships like any order. Its `order.accepted` carries `sources` (each source's own Omni
order id, shop, channel order id and money) and every line names its source (`source_order_id`).

- **Sale.** Each source is projected and booked as an order of its own (posting.project / posting.sale): its
  own order id, its goods paid, freight and paid, the lines of M that came from it. Its projection says
  `merged_into = M`. M has no projection and no voucher of its own, only the mapping (`MergedOrder`).
- **Revenue.** M's shipment is split over the sources (`split_shipment`): a shipped line that names its line
  goes to that line's source; a line without one (a v1 event) is matched by material over M's lines in M's
  line order. Each source's part is then booked on the source's projection (posting.ship), freight with the
  source's first shipment.
- **Cancellation** of M (an unmerge, or a cancel before anything left) reverses each source's sale that is
  still booked via M.
- **Re-acceptance** (`rebooking`): after an unmerge the OMS accepts each source again under its own id,
  without sources. The sale booked via M was reversed, so the source is booked afresh. Each source nets one
  live sale.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from omni_contracts.events.order import OrderAcceptedV1

from . import posting
from .posting import InconsistentOrder, OrderState, OrderStatus, ShipmentRejected, Shipped, Source
from .vouchers import Voucher


@dataclass(frozen=True)
class MergedSource:
    """One platform order merged into M, as M's order.accepted named it."""

    order_id: str
    position: int  # 1.. oldest first
    shop_id: str
    channel_order_id: str
    goods_paid_cents: int
    post_fee_cents: int
    paid_cents: int
    paid_at: datetime | None = None


@dataclass(frozen=True)
class MergedLine:
    """One of M's lines and the source it came from."""

    line_no: int  # position in M
    line_id: str
    source_order_id: str
    material_code: str
    qty: int


@dataclass(frozen=True)
class MergedOrder:
    """What finance keeps of a merged order: its sources and which line came from which."""

    order_id: str
    channel: str
    currency: str
    sources: tuple[MergedSource, ...]
    lines: tuple[MergedLine, ...]

    @property
    def source_ids(self) -> list[str]:
        return [s.order_id for s in self.sources]


def accept_merged(
    data: OrderAcceptedV1, source: Source, now: datetime
) -> tuple[MergedOrder, list[tuple[OrderState, Voucher | None]]]:
    """M's mapping, and per source (oldest first) its projection and sale voucher, booked as if it were an
    order of its own. InconsistentOrder when a source's lines do not add up to its goods paid."""
    ids = [s.order_id for s in data.sources]
    if not ids:
        raise InconsistentOrder(f"order {data.order_id} has no sources: it is not a merged order")
    if data.order_id in ids:
        raise InconsistentOrder(f"merged order {data.order_id} names itself as one of its sources")
    line_ids = [x.line_id for x in data.lines]
    if len(set(line_ids)) != len(line_ids):
        raise InconsistentOrder(f"order {data.order_id}: line ids repeat")
    merged = MergedOrder(
        order_id=data.order_id,
        channel=data.channel,
        currency=data.currency,
        sources=tuple(
            MergedSource(
                s.order_id,
                i,
                s.shop_id,
                s.channel_order_id,
                s.goods_paid_cents,
                s.post_fee_cents,
                s.paid_cents,
                s.paid_at,
            )
            for i, s in enumerate(data.sources, 1)
        ),
        lines=tuple(
            MergedLine(i, x.line_id, x.source_order_id or "", x.material_code, x.qty)
            for i, x in enumerate(data.lines, 1)
        ),
    )
    booked = []
    for s in data.sources:
        order = posting.project(
            order_id=s.order_id,
            channel=data.channel,
            channel_order_id=s.channel_order_id,
            currency=data.currency,
            goods_paid_cents=s.goods_paid_cents,
            post_fee_cents=s.post_fee_cents,
            paid_cents=s.paid_cents,
            lines=[x for x in data.lines if x.source_order_id == s.order_id],
            merged_into=data.order_id,
            payment=data.payment,  # one buyer's orders: on account (or paid) alike
        )
        booked.append((order, posting.sale(order, source, now, shop_id=s.shop_id)))
    return merged, booked


# -- a new acceptance of an order finance already projected --
class Rebooking(StrEnum):
    NEW = "new"  # not projected yet: book it
    ALREADY = "already"  # the same booking again (its own acceptance again, or via the same M): nothing
    RENEW = "renew"  # its sale via a merged order was reversed (unmerge): book it afresh
    SUPERSEDE = "supersede"  # booked via another merged order, nothing shipped: reverse that, book afresh
    REFUSE = "refuse"  # booked the other way and goods already left under it: nothing booked


def rebooking(prior: OrderState | None, merged_into: str | None) -> Rebooking:
    """What to do with an acceptance of an order (on its own: `merged_into` None; or as a source of the merged
    order `merged_into`) given its current projection `prior`.

    An order's own acceptance that comes again is booked once, as ever (even after a cancellation). A booking
    via a merged order is replaced by the next acceptance the other way: afresh when its sale was reversed
    (the unmerge cancelled M first), or reversing it first when M's cancellation has not been seen yet (M and
    the source are different keys, so their events can arrive in either order). Never while goods that left
    under it are booked as revenue.
    """
    if prior is None:
        return Rebooking.NEW
    if prior.merged_into == merged_into:
        return Rebooking.ALREADY
    if prior.status is OrderStatus.CANCELLED:
        return Rebooking.RENEW
    if prior.status is OrderStatus.SHIPPING:
        return Rebooking.REFUSE
    return Rebooking.SUPERSEDE


# -- goods left --
def split_shipment(
    merged: MergedOrder, orders: Mapping[str, OrderState], shipped: Sequence[Shipped]
) -> list[tuple[str, list[Shipped]]]:
    """M's shipped lines per source order (in M's source order), each naming the source's line it fulfils.

    A shipped line that names its line (v2) goes to that line's source (posting.ship checks its material and
    open quantity there). A v1 line is matched by material over M's lines in line order, taking what is still
    open on each source's line. Every source that receives units must still be booked via M.
    """
    by_id = {x.line_id: x for x in merged.lines}
    state = {x.line_id: x for o in orders.values() if o.merged_into == merged.order_id for x in o.lines}
    out: dict[str, list[Shipped]] = {}
    planned: dict[str, int] = {}  # line id -> units this shipment takes

    def still_open(line_id: str, refunded_too: bool) -> int:
        found = state.get(line_id)
        room = (found.shippable_qty if refunded_too else found.open_qty) if found else 0
        return room - planned.get(line_id, 0)

    for x in shipped:
        if x.line_id is None:
            continue
        line = by_id.get(x.line_id)
        if line is None:
            raise ShipmentRejected(f"merged order {merged.order_id} has no line {x.line_id}")
        planned[x.line_id] = planned.get(x.line_id, 0) + x.qty
        out.setdefault(line.source_order_id, []).append(x)
    wanted: dict[str, int] = {}
    for x in shipped:
        if x.line_id is None:
            wanted[x.material_code] = wanted.get(x.material_code, 0) + x.qty
    for material, qty in wanted.items():
        left = qty
        for refunded_too in (False, True):  # the open units first, then those refunded before they left
            for line in merged.lines:
                if line.material_code != material or left <= 0:
                    continue
                n = min(left, still_open(line.line_id, refunded_too))
                if n > 0:
                    planned[line.line_id] = planned.get(line.line_id, 0) + n
                    out.setdefault(line.source_order_id, []).append(Shipped(material, n, line.line_id))
                    left -= n
        if left:
            raise ShipmentRejected(
                f"merged order {merged.order_id}: {qty} of material {material} shipped but only {qty - left} "
                "are still open on its lines"
            )
    for source_id in out:
        order = orders.get(source_id)
        if order is None or order.merged_into != merged.order_id:
            raise ShipmentRejected(
                f"merged order {merged.order_id}: its source {source_id} is no longer booked via it (it was "
                "unmerged and accepted on its own); goods that left M cannot become its revenue"
            )
    return [(s, out[s]) for s in merged.source_ids if s in out]
