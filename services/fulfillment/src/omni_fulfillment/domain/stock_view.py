"""The stock-per-node picture sourcing plans with, for one batch of work. Pure, in memory.

It is loaded from the projection, then kept honest while a batch is planned: what a plan takes is taken
off at once (so two orders of one batch are not both planned on the same last unit), and what a refusal
reveals replaces what was believed. It also holds each node's routing settings and its load (open tasks,
orders today) as they were when the batch began, so that the candidates it gives say whether each node is
closed or full at `now`. Capacity counts the batch's own plans too (a node with one place left takes one
more order, not a batch of them); the load band compares the nodes as the batch found them, so that the
groups of one order split by type are not pushed apart by each other.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .candidates import Candidate, Line
from .nodes import DEFAULT_ROUTING, NodeLoad, NodeRouting, full_why


@dataclass(frozen=True)
class NodeInfo:
    code: str
    lat: float
    lng: float
    priority: int
    type: str = "warehouse"
    routing: NodeRouting = DEFAULT_ROUTING


class StockView:
    def __init__(
        self,
        nodes: Iterable[NodeInfo] = (),
        stock: Iterable[tuple[str, str, int]] = (),
        *,
        load: Mapping[str, NodeLoad] | None = None,
        now: datetime | None = None,
    ) -> None:
        self.nodes: dict[str, NodeInfo] = {n.code: n for n in nodes}
        self.stock: dict[str, dict[str, int]] = {code: {} for code in self.nodes}
        self.holders: dict[str, set[str]] = {}  # material -> nodes that had some (an index, never shrunk)
        self.load: dict[str, NodeLoad] = dict(load or {})  # as the batch began (set before candidates)
        self.planned: dict[str, int] = {}  # reservations this batch requested, per node
        self.now = now  # None: hours are not looked at (every node open)
        self._state: dict[str, tuple[Any, ...]] = {}
        for node_code, material_code, available in stock:
            self.set_available(node_code, material_code, available)

    def candidates(self, materials: Iterable[str], also: Iterable[str] = ()) -> list[Candidate]:
        """The nodes having some of `materials`, and those named in `also`, with their stock of those."""
        wanted = list(dict.fromkeys(materials))
        codes = set(also) & self.nodes.keys()
        for m in wanted:
            codes |= self.holders.get(m, set())
        out = []
        for code in sorted(codes):
            n, held = self.nodes[code], self.stock[code]
            out.append(self._candidate(n, {m: held[m] for m in wanted if m in held}))
        return out

    def _candidate(self, n: NodeInfo, stock: dict[str, int]) -> Candidate:
        state = self._state.get(n.code)
        if state is None:  # worked out once a batch (and again when a plan of the batch took the node)
            state = self._state[n.code] = self._node_state(n)
        return Candidate(n.code, n.lat, n.lng, n.priority, stock, *state)

    def _node_state(self, n: NodeInfo) -> tuple[Any, ...]:
        """What a candidate says of the node besides its stock, in Candidate's order (type .. high_value)."""
        r, load = n.routing, self.load.get(n.code, NodeLoad())
        closed = r.hours.closed_why(self.now) if self.now is not None else None
        more = self.planned.get(n.code, 0)
        full = full_why(r, NodeLoad(load.open_tasks + more, load.orders_today + more))
        return (
            n.type, load.open_tasks, closed or "", full or "", r.load_band_km, r.same_city_radius_km,
            frozenset(r.pools), r.high_value,
        )  # fmt: skip

    def available(self, node_code: str, material_code: str) -> int:
        return self.stock.get(node_code, {}).get(material_code, 0)

    def take(self, node_code: str, lines: Iterable[Line]) -> None:
        """A reservation was requested: believe the stock is gone until the inventory says otherwise, and
        count the task it becomes against the node's capacity."""
        held = self.stock.get(node_code)
        if held is None:
            return
        for line in lines:
            held[line.material_code] = held.get(line.material_code, 0) - line.qty
        self._count(node_code, +1)

    def give_back(self, node_code: str, lines: Iterable[Line]) -> None:
        """What `take` took for a plan that was dropped before it was requested (another group of the order
        could not be planned)."""
        held = self.stock.get(node_code)
        if held is None:
            return
        for line in lines:
            held[line.material_code] = held.get(line.material_code, 0) + line.qty
        self._count(node_code, -1)

    def set_available(self, node_code: str, material_code: str, available: int) -> None:
        if node_code in self.stock:
            self.stock[node_code][material_code] = available
            if available > 0:
                self.holders.setdefault(material_code, set()).add(node_code)

    def _count(self, node_code: str, n: int) -> None:
        self.planned[node_code] = max(self.planned.get(node_code, 0) + n, 0)
        self._state.pop(node_code, None)  # its capacity left changed
