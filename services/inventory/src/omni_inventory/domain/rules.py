"""Allocation rules (分货调度, layer 3) as data: one versioned document, validated whole.

A rule set is what an operations team edits: pools of nodes, each channel's (or shop's) allocation of a pool,
water levels per pool and material, safety stock, and per-listing formulas. It is replaced as a whole
(`PUT /allocation-rules`), so a change is never half-applied; every accepted document gets the next version
and becomes effective for the next computation (no restart). Pure: no I/O.

Shapes are checked by the models (a ratio above 100 %, a negative safety stock, low above high); what a
document refers to is checked by `problems(doc, known)` against what inventory knows (nodes, channels,
listings), so a 422 lists EVERY problem at once, each with the path of the field.

Pools double as virtual warehouses (虚拟仓): a channel allocated from a pool sells what the pool's nodes hold;
a listing with `supply_nodes` sells only from those dedicated nodes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, model_validator

from omni_chassis.paging import json_int

from .model import MAX_QTY

Code = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\s\x85]+$")]
Id = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[^\s\x85]+$")]
Qty = json_int(0, MAX_QTY)

# The channels Omni has adapters (or will have, issue #9) for; a channel seen on a listing is known too.
KNOWN_CHANNELS = frozenset({"tmall", "taobao", "jd", "pdd", "douyin", "xhs", "own_mall", "store", "wechat"})


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Pool(_Rule):
    """A stock pool (库存池) over nodes, e.g. EAST = WH-HZ + STORE-SH-01."""

    code: Code
    name: str = Field("", max_length=200)
    nodes: list[Code] = Field(min_length=1, max_length=500)


class Allocation(_Rule):
    """How much of a pool one channel (or one shop of it) may sell.

    - `shared`: all of the pool (above the low mark); nothing of it below the low mark unless `core`.
    - `quota`: at most `quota` units; `ratio`: at most `ratio_pct` % of the pool (floor).
    - `core`: a core channel keeps what the others' caps leave when the water is low.
    - `priority`: higher is served first when the water is low.
    """

    pool: Code
    channel: Code
    shop_id: Code | None = Field(
        None, description="None: every shop of the channel without its own allocation"
    )
    mode: Literal["shared", "quota", "ratio"] = "shared"
    quota: Qty | None = None
    ratio_pct: json_int(0, 100) | None = None
    priority: json_int(0, 1000) = 0
    core: StrictBool = False

    @model_validator(mode="after")
    def _mode_fields(self) -> Allocation:
        if self.mode == "quota" and self.quota is None:
            raise ValueError("a quota allocation needs `quota`")
        if self.mode == "ratio" and self.ratio_pct is None:
            raise ValueError("a ratio allocation needs `ratio_pct` (0..100)")
        if self.mode != "quota" and self.quota is not None:
            raise ValueError(f"`quota` belongs to mode quota, not {self.mode}")
        if self.mode != "ratio" and self.ratio_pct is not None:
            raise ValueError(f"`ratio_pct` belongs to mode ratio, not {self.mode}")
        return self


class WaterLevel(_Rule):
    """Water levels (水位) of a pool, for one material or (material None) every material of the pool."""

    pool: Code
    material_code: Code | None = None
    low: Qty
    high: Qty

    @model_validator(mode="after")
    def _order(self) -> WaterLevel:
        if self.low > self.high:
            raise ValueError(f"low ({self.low}) is above high ({self.high})")
        return self


class SafetyStock(_Rule):
    """Units never offered (安全库存): at a node (for a material or all), for a channel, or for a material."""

    material_code: Code | None = None
    node_code: Code | None = None
    channel: Code | None = None
    qty: Qty

    @model_validator(mode="after")
    def _scope(self) -> SafetyStock:
        if self.node_code is None and self.channel is None and self.material_code is None:
            raise ValueError("a safety stock needs a material, a node or a channel")
        if self.node_code is not None and self.channel is not None:
            raise ValueError("a safety stock is per node or per channel, not both")
        return self


class ListingRule(_Rule):
    """A listing's formula: floor(share × percent / 100) + plus, then max_qty, then min_qty (never above
    what the share holds); `supply_nodes` sells only from those nodes (专用供货仓), outside every pool."""

    listing_id: Id
    percent: json_int(0, 1000) = 100
    plus: json_int(-MAX_QTY, MAX_QTY) = 0
    min_qty: Qty | None = None
    max_qty: Qty | None = None
    supply_nodes: list[Code] | None = Field(None, min_length=1, max_length=500)

    @model_validator(mode="after")
    def _bounds(self) -> ListingRule:
        if self.min_qty is not None and self.max_qty is not None and self.min_qty > self.max_qty:
            raise ValueError(f"min_qty ({self.min_qty}) is above max_qty ({self.max_qty})")
        return self


class RuleDocument(_Rule):
    pools: list[Pool] = Field(default_factory=list, max_length=200)
    allocations: list[Allocation] = Field(default_factory=list, max_length=2000)
    water_levels: list[WaterLevel] = Field(default_factory=list, max_length=5000)
    safety_stock: list[SafetyStock] = Field(default_factory=list, max_length=5000)
    listing_rules: list[ListingRule] = Field(default_factory=list, max_length=20000)


EMPTY = RuleDocument()


@dataclass(frozen=True)
class Known:
    """What the references of a document are checked against."""

    nodes: frozenset[str]
    channels: frozenset[str]
    listings: frozenset[str]


@dataclass(frozen=True)
class RuleProblem:
    path: str
    message: str


MAX_PROBLEMS = 200  # an answer lists this many, then says how many more there are


def problems(doc: RuleDocument, known: Known) -> list[RuleProblem]:
    """Every reference or consistency problem of a well-shaped document (empty: it can be accepted); past
    MAX_PROBLEMS, the last entry says how many more were found."""
    found = _problems(doc, known)
    if len(found) > MAX_PROBLEMS:
        more = len(found) - MAX_PROBLEMS
        return [*found[:MAX_PROBLEMS], RuleProblem("body", f"and {more} more problems like these")]
    return found


def _problems(doc: RuleDocument, known: Known) -> list[RuleProblem]:
    out: list[RuleProblem] = []
    channels = known.channels | KNOWN_CHANNELS
    pools: dict[str, set[str]] = {}
    for i, p in enumerate(doc.pools):
        if p.code in pools:
            out.append(RuleProblem(f"body.pools[{i}].code", f"pool {p.code} is defined twice"))
        pools[p.code] = set(p.nodes)
        for j, n in enumerate(p.nodes):
            if n not in known.nodes:
                out.append(RuleProblem(f"body.pools[{i}].nodes[{j}]", f"unknown node {n}"))
        if len(set(p.nodes)) != len(p.nodes):
            out.append(RuleProblem(f"body.pools[{i}].nodes", f"pool {p.code} names a node twice"))
    out += _allocation_problems(doc, pools, channels)
    for i, w in enumerate(doc.water_levels):
        if w.pool not in pools:
            out.append(RuleProblem(f"body.water_levels[{i}].pool", f"unknown pool {w.pool}"))
    seen_w: set[tuple[str, str | None]] = set()
    for i, w in enumerate(doc.water_levels):
        if (w.pool, w.material_code) in seen_w:
            what = w.material_code or "every material"
            out.append(
                RuleProblem(f"body.water_levels[{i}]", f"pool {w.pool} has two water levels for {what}")
            )
        seen_w.add((w.pool, w.material_code))
    seen_s: set[tuple[str | None, str | None, str | None]] = set()
    for i, s in enumerate(doc.safety_stock):
        if s.node_code is not None and s.node_code not in known.nodes:
            out.append(RuleProblem(f"body.safety_stock[{i}].node_code", f"unknown node {s.node_code}"))
        if s.channel is not None and s.channel not in channels:
            out.append(RuleProblem(f"body.safety_stock[{i}].channel", f"unknown channel {s.channel}"))
        scope = (s.material_code, s.node_code, s.channel)
        if scope in seen_s:
            out.append(RuleProblem(f"body.safety_stock[{i}]", "two safety stocks for the same scope"))
        seen_s.add(scope)
    seen_l: set[str] = set()
    for i, lr in enumerate(doc.listing_rules):
        if lr.listing_id not in known.listings:
            out.append(RuleProblem(f"body.listing_rules[{i}].listing_id", f"unknown listing {lr.listing_id}"))
        if lr.listing_id in seen_l:
            out.append(RuleProblem(f"body.listing_rules[{i}]", f"listing {lr.listing_id} has two rules"))
        seen_l.add(lr.listing_id)
        for j, n in enumerate(lr.supply_nodes or ()):
            if n not in known.nodes:
                out.append(RuleProblem(f"body.listing_rules[{i}].supply_nodes[{j}]", f"unknown node {n}"))
    return out


def _allocation_problems(
    doc: RuleDocument, pools: dict[str, set[str]], channels: frozenset[str]
) -> list[RuleProblem]:
    out: list[RuleProblem] = []
    by_scope: dict[tuple[str, str | None], list[tuple[int, str]]] = {}
    ratio_sum: dict[str, int] = {}
    for i, a in enumerate(doc.allocations):
        if a.pool not in pools:
            out.append(RuleProblem(f"body.allocations[{i}].pool", f"unknown pool {a.pool}"))
        if a.channel not in channels:
            out.append(RuleProblem(f"body.allocations[{i}].channel", f"unknown channel {a.channel}"))
        by_scope.setdefault((a.channel, a.shop_id), []).append((i, a.pool))
        if a.mode == "ratio" and a.ratio_pct is not None:
            ratio_sum[a.pool] = ratio_sum.get(a.pool, 0) + a.ratio_pct
    for pool, total in ratio_sum.items():
        if total > 100:
            out.append(
                RuleProblem("body.allocations", f"the ratios of pool {pool} add up to {total} %, over 100 %")
            )
    for (channel, shop), entries in by_scope.items():
        who = f"channel {channel}" + (f" shop {shop}" if shop else "")
        first: dict[str, int] = {}  # pool -> the first allocation of this scope from it
        for i, pool in entries:  # linear in allocations, quadratic only in the (<= 200) distinct pools
            if pool in first:
                out.append(RuleProblem(f"body.allocations[{i}]", f"{who} is allocated from {pool} twice"))
                continue
            mine = pools.get(pool, set())
            for other in first:  # the first overlap is enough to say what is wrong with this allocation
                if not mine.isdisjoint(pools.get(other, set())):
                    nodes = ", ".join(sorted(mine & pools[other])[:5])
                    out.append(RuleProblem(
                        f"body.allocations[{i}].pool",
                        f"{who} is allocated from overlapping pools {other} and {pool} (both hold {nodes})",
                    ))  # fmt: skip
                    break
            first[pool] = i
    return out
