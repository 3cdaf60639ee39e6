"""The stock-per-node picture sourcing plans with, for one batch of work. Pure, in memory.

It is loaded from the projection, then kept honest while a batch is planned: what a plan takes is taken
off at once (so two orders of one batch are not both planned on the same last unit), and what a refusal
reveals replaces what was believed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .sourcing import Candidate, Line


@dataclass(frozen=True)
class NodeInfo:
    code: str
    lat: float
    lng: float
    priority: int


class StockView:
    def __init__(self, nodes: Iterable[NodeInfo] = (), stock: Iterable[tuple[str, str, int]] = ()) -> None:
        self.nodes: dict[str, NodeInfo] = {n.code: n for n in nodes}
        self.stock: dict[str, dict[str, int]] = {code: {} for code in self.nodes}
        self.holders: dict[str, set[str]] = {}  # material -> nodes that had some (an index, never shrunk)
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
            out.append(Candidate(n.code, n.lat, n.lng, n.priority, {m: held[m] for m in wanted if m in held}))
        return out

    def available(self, node_code: str, material_code: str) -> int:
        return self.stock.get(node_code, {}).get(material_code, 0)

    def take(self, node_code: str, lines: Iterable[Line]) -> None:
        """A reservation was requested: believe the stock is gone until the inventory says otherwise."""
        held = self.stock.get(node_code)
        if held is None:
            return
        for line in lines:
            held[line.material_code] = held.get(line.material_code, 0) - line.qty

    def give_back(self, node_code: str, lines: Iterable[Line]) -> None:
        """What `take` took for a plan that was dropped before it was requested (another group of the order
        could not be planned)."""
        held = self.stock.get(node_code)
        if held is None:
            return
        for line in lines:
            held[line.material_code] = held.get(line.material_code, 0) + line.qty

    def set_available(self, node_code: str, material_code: str, available: int) -> None:
        if node_code in self.stock:
            self.stock[node_code][material_code] = available
            if available > 0:
                self.holders.setdefault(material_code, set()).add(node_code)
