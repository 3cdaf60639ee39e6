"""What a channel listing may sell (渠道协同, layer 4), and why. Pure: no I/O, no clock.

For each material of the listing (a single has one, a bundle several, each with its qty per unit):

1. node available = max(0, on hand − reserved − frozen − the node's safety stock);
2. the listing's supply: with `supply_nodes` (专用供货仓) the sum over those nodes; otherwise, per pool
   that allocates the listing's channel (its shop's own allocation first, else the channel's), the pool's
   available (sum over its nodes, minus the material's safety stock) shared out by the water level:
   - at or above `high`: every channel of the pool gets all of it;
   - between: shared → all, quota → min(quota, pool), ratio → floor(pool × ratio %);
   - below `low`: the non-core allocations, highest priority first, get min(their cap, what is left)
     (cap = quota, or floor(pool × ratio %), or 0 for a shared one), and the core ones split the rest
     (evenly, the odd units to the higher priority) — so the sum over the pool never exceeds the pool;
   a channel no pool allocates shares every node (the default when there are no rules);
3. minus the channel's safety stock for the material;
4. a bundle sells floor(min over its parts of supply / qty) — its scarcest part;
5. the listing's formula: floor(units × percent / 100) + plus, capped by max_qty, raised to min_qty but
   never above the units there are; never below 0. An off-sale listing or inactive product sells 0.

`explain` returns every input and step, so `GET /listings/{id}/stock` can say why the number is what it is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .rules import Allocation, ListingRule, RuleDocument

Supply = Mapping[tuple[str, str], int]  # (node, material) -> available (on hand − reserved − frozen)
Seller = tuple[str, str | None]  # (channel, shop_id or None)


@dataclass(frozen=True)
class ListingView:
    listing_id: str
    channel: str
    shop_id: str
    status: str  # on_sale | off_sale
    product_active: bool
    components: tuple[tuple[str, int], ...]  # (material, qty per unit); empty: product unknown yet


@dataclass
class Step:
    step: str
    detail: str
    value: int | None = None
    material_code: str | None = None
    inputs: dict[str, Any] = field(default_factory=dict)


@dataclass
class Sellable:
    quantity: int
    steps: list[Step]


class RuleIndex:
    """A rule document indexed for computing (built once per version)."""

    def __init__(self, doc: RuleDocument, version: int = 0) -> None:
        self.doc = doc
        self.version = version
        self.pools = {p.code: tuple(p.nodes) for p in doc.pools}
        self.by_pool: dict[str, list[Allocation]] = {}
        self.by_seller: dict[Seller, list[Allocation]] = {}
        for a in doc.allocations:
            self.by_pool.setdefault(a.pool, []).append(a)
            self.by_seller.setdefault((a.channel, a.shop_id), []).append(a)
        self.water = {(w.pool, w.material_code): (w.low, w.high) for w in doc.water_levels}
        self.safety = {(s.material_code, s.node_code, s.channel): s.qty for s in doc.safety_stock}
        self.listing_rules: dict[str, ListingRule] = {r.listing_id: r for r in doc.listing_rules}

    def node_safety(self, node: str, material: str) -> int:
        return self.safety.get((material, node, None), self.safety.get((None, node, None), 0))

    def material_safety(self, material: str) -> int:
        return self.safety.get((material, None, None), 0)

    def channel_safety(self, channel: str, material: str) -> int:
        return self.safety.get((material, None, channel), self.safety.get((None, None, channel), 0))

    def allocations_for(self, channel: str, shop_id: str) -> list[Allocation]:
        """Per pool, the shop's own allocation, else the channel's."""
        own = {a.pool: a for a in self.by_seller.get((channel, shop_id), [])}
        for a in self.by_seller.get((channel, None), []):
            own.setdefault(a.pool, a)
        return sorted(own.values(), key=lambda a: a.pool)


def node_available(idx: RuleIndex, supply: Supply, node: str, material: str) -> int:
    return max(0, supply.get((node, material), 0) - idx.node_safety(node, material))


def pool_available(idx: RuleIndex, supply: Supply, nodes: Sequence[str], material: str) -> int:
    total = sum(node_available(idx, supply, n, material) for n in nodes)
    return max(0, total - idx.material_safety(material))


def water_mode(
    idx: RuleIndex, pool: str, material: str, available: int
) -> tuple[str, tuple[int, int] | None]:
    level = idx.water.get((pool, material)) or idx.water.get((pool, None))
    if level is None:
        return "normal", None
    low, high = level
    if available >= high:
        return "high", level
    if available < low:
        return "low", level
    return "normal", level


def _cap(a: Allocation, available: int) -> int:
    if a.mode == "quota":
        return min(a.quota or 0, available)
    if a.mode == "ratio":
        return available * (a.ratio_pct or 0) // 100
    return available


def pool_shares(allocations: Sequence[Allocation], available: int, mode: str) -> dict[Seller, int]:
    """Each allocation's share of a pool holding `available` units, at water `mode`."""
    if mode == "high":
        return {(a.channel, a.shop_id): available for a in allocations}
    if mode == "normal":
        return {(a.channel, a.shop_id): _cap(a, available) for a in allocations}
    shares: dict[Seller, int] = {}
    left = available
    order = sorted(allocations, key=lambda a: (-a.priority, a.channel, a.shop_id or ""))
    for a in order:
        if not a.core:
            give = min(_cap(a, available) if a.mode != "shared" else 0, left)
            shares[(a.channel, a.shop_id)] = give
            left -= give
    core = [a for a in order if a.core]
    if core:
        each, odd = divmod(left, len(core))
        for i, a in enumerate(core):
            shares[(a.channel, a.shop_id)] = each + (1 if i < odd else 0)
    return shares


def material_supply(
    idx: RuleIndex, supply: Supply, listing: ListingView, material: str, steps: list[Step]
) -> int:
    """What the listing's channel may sell of one material, before its formula."""
    rule = idx.listing_rules.get(listing.listing_id)
    if rule is not None and rule.supply_nodes:
        per = {n: node_available(idx, supply, n, material) for n in rule.supply_nodes}
        got = sum(per.values())
        nodes = ", ".join(rule.supply_nodes)
        steps.append(Step("dedicated-nodes", f"sold only from its supply nodes {nodes}", got, material,
                          {"node_available": per}))  # fmt: skip
    else:
        allocs = idx.allocations_for(listing.channel, listing.shop_id)
        if not allocs:
            nodes = sorted({n for (n, m) in supply if m == material})
            per = {n: node_available(idx, supply, n, material) for n in nodes}
            got = max(0, sum(per.values()) - idx.material_safety(material))
            steps.append(Step("shared-everywhere", f"no pool allocates channel {listing.channel}: it shares "
                              "every node", got, material, {"node_available": per,
                              "material_safety": idx.material_safety(material)}))  # fmt: skip
        else:
            got = sum(_pool_share(idx, supply, a, listing, material, steps) for a in allocs)
    safety = idx.channel_safety(listing.channel, material)
    if safety:
        got = max(0, got - safety)
        steps.append(Step("channel-safety", f"minus channel {listing.channel}'s safety stock {safety}",
                          got, material, {"safety": safety}))  # fmt: skip
    return got


def _pool_share(
    idx: RuleIndex, supply: Supply, a: Allocation, listing: ListingView, material: str, steps: list[Step]
) -> int:
    nodes = idx.pools.get(a.pool, ())
    per = {n: node_available(idx, supply, n, material) for n in nodes}
    available = pool_available(idx, supply, nodes, material)
    mode, level = water_mode(idx, a.pool, material, available)
    shares = pool_shares(idx.by_pool.get(a.pool, []), available, mode)
    got = shares.get((a.channel, a.shop_id), 0)
    who = a.channel + (f"/{a.shop_id}" if a.shop_id else "")
    how = {"shared": "shares it", "quota": f"quota {a.quota}", "ratio": f"ratio {a.ratio_pct} %"}[a.mode]
    detail = f"pool {a.pool} holds {available}; water {mode}"
    if level:
        detail += f" (low {level[0]}, high {level[1]})"
    detail += f"; {who} {how}{' (core)' if a.core else ''}, priority {a.priority}: {got}"
    steps.append(Step("pool", detail, got, material, {
        "pool": a.pool, "node_available": per, "material_safety": idx.material_safety(material),
        "pool_available": available, "water": mode, "low": level[0] if level else None,
        "high": level[1] if level else None, "mode": a.mode, "core": a.core, "priority": a.priority,
        "shares": {f"{c}/{s}" if s else c: v for (c, s), v in shares.items()},
    }))  # fmt: skip
    return got


def explain(idx: RuleIndex, supply: Supply, listing: ListingView) -> Sellable:
    steps: list[Step] = []
    if listing.status != "on_sale":
        return Sellable(0, [Step("off-sale", "the listing is off sale: it sells nothing", 0)])
    if not listing.product_active or not listing.components:
        why = "its sales product is inactive" if listing.components else "its sales product is not known yet"
        return Sellable(0, [Step("no-product", f"{why}: it sells nothing", 0)])
    units: list[int] = []
    for material, qty in listing.components:
        got = material_supply(idx, supply, listing, material, steps)
        units.append(got // qty)
        if len(listing.components) > 1 or qty > 1:
            steps.append(Step("per-unit", f"{got} // {qty} per unit = {got // qty}", got // qty, material))
    q0 = min(units)
    if len(listing.components) > 1:
        steps.append(Step("bundle", "a bundle sells what its scarcest part allows", q0))
    q = _formula(idx.listing_rules.get(listing.listing_id), q0, steps)
    return Sellable(q, steps)


def _formula(rule: ListingRule | None, units: int, steps: list[Step]) -> int:
    if rule is None:
        return max(0, units)
    q = units * rule.percent // 100 + rule.plus
    detail = f"floor({units} × {rule.percent} %) {'+' if rule.plus >= 0 else '−'} {abs(rule.plus)} = {q}"
    if rule.max_qty is not None and q > rule.max_qty:
        q = rule.max_qty
        detail += f", capped at max {rule.max_qty}"
    if rule.min_qty is not None and q < min(rule.min_qty, units):
        q = min(rule.min_qty, units)
        detail += f", raised to min {rule.min_qty} (at most the {units} there are)"
    q = max(0, q)
    steps.append(Step("formula", detail, q, None, rule.model_dump(exclude={"listing_id"})))
    return q
