"""The sourcing fake (fulfillment_fakes.py) with routing: nodes keep their routing settings, and the stock
view it loads carries them and each node's load, counted from the fake's tasks and pending reservations as
the SQL counts them (store_routing.py), at the fake's clock `now`. Plus order.accepted with route hints."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime
from typing import Any

from fulfillment_fakes import FakeRepository, accepted, env

from omni_chassis.uow import FakeUnitOfWork
from omni_contracts import Envelope, utcnow
from omni_contracts.events.order import RouteHint
from omni_fulfillment.domain.nodes import Node, NodeLoad, NodeRouting
from omni_fulfillment.domain.order_sourcing import ReservationStatus
from omni_fulfillment.domain.stock_view import NodeInfo, StockView
from omni_fulfillment.store_routing import DONE_STATUSES, GONE_STATUSES


class FakeRoutingRepository(FakeRepository):
    def __init__(self) -> None:
        super().__init__()
        self.now: datetime | None = None  # None: the wall clock

    async def put_node(self, node: Node) -> bool:
        """As the table does: a replaced node keeps its routing settings (a new one takes the given)."""
        was = self.nodes.get(node.code)
        return await super().put_node(replace(node, routing=was.routing) if was else node)

    async def put_node_routing(self, code: str, routing: NodeRouting) -> bool:
        if code not in self.nodes:
            return False
        self.nodes[code] = replace(self.nodes[code], routing=routing)
        return True

    async def load_view(self, materials: Iterable[str], node_codes: Iterable[str] = ()) -> StockView:
        plain = await super().load_view(materials, node_codes)
        infos = [
            NodeInfo(c, n.lat, n.lng, n.priority, n.type.value, n.routing)
            for c in plain.nodes
            if (n := self.nodes[c])
        ]
        rows = [(c, m, a) for c, held in plain.stock.items() for m, a in held.items()]
        load = {c: self.load_of(c) for c in plain.nodes}
        return StockView(infos, rows, load=load, now=self.now or utcnow())

    def load_of(self, code: str) -> NodeLoad:
        """Open tasks + pending reservations; orders of its tasks (not moved away) and pending reservations
        (the fake has no days: every task is today's)."""
        tasks = [t for t in self.tasks.values() if t.node_code == code]
        pending = [
            (o.order_id, r)
            for o in self.sourcings.values()
            for r in o.reservations
            if r.node_code == code and r.status is ReservationStatus.PENDING
        ]
        open_tasks = sum(1 for t in tasks if t.status.value not in DONE_STATUSES) + len(pending)
        orders = {t.order_id for t in tasks if t.status.value not in GONE_STATUSES} | {o for o, _ in pending}
        return NodeLoad(open_tasks, len(orders))


def new_uow() -> FakeUnitOfWork[FakeRoutingRepository]:
    return FakeUnitOfWork(FakeRoutingRepository())


def accepted_with(
    order_id: str, lines: Any, *, hints: Iterable[dict[str, str]] = (), **kw: Any
) -> Envelope[Any]:
    """order.accepted (fulfillment_fakes.accepted) carrying the OMS rules' route hints, and `high_value`
    materials flagged on their lines."""
    high_value = set(kw.pop("high_value", ()))
    e = accepted(order_id, lines, **kw)
    lines_ = [x.model_copy(update={"high_value": x.material_code in high_value}) for x in e.data.lines]
    data = e.data.model_copy(update={"route_hints": [RouteHint(**h) for h in hints], "lines": lines_})
    return env(data, order_id, "order")
