"""Why a node gives a task (or some of its lines) back, as configured data: each reason says what it does
to the node and where the units go next. Pure.

- `zero_stock`: the node says it has none of those materials: inventory sets their available there to 0;
- `request_count`: a cycle count of those materials is requested at the node;
- `pause_minutes`: the node takes no new orders for that long (sourcing skips it);
- `next`: where the units go: `next_best_node` (sourcing's next best, this node kept out),
  `warehouses_only` (the same, stores kept out), or `backorder` (no re-source: the order waits for stock
  as the OMS's backorder does).

`short_pick` is a system reason: a pack or ready that accepts a shortage gives the missing units back with
it (it can be edited, not deleted). Every save is a new version, kept with who saved it.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from .errors import Invalid

SHORT_PICK = "short_pick"
ACCEPT_TIMEOUT = "accept_timeout"  # not a configured reason: what a reassignment is recorded under
MAX_PAUSE_MINUTES = 7 * 24 * 60
CODE = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


class Next(StrEnum):
    NEXT_BEST_NODE = "next_best_node"
    WAREHOUSES_ONLY = "warehouses_only"
    BACKORDER = "backorder"


@dataclass(frozen=True)
class RejectReason:
    code: str
    label: str
    zero_stock: bool = False
    request_count: bool = False
    pause_minutes: int | None = None
    next: Next = Next.NEXT_BEST_NODE
    active: bool = True
    system: bool = False
    version: int = 1

    def __post_init__(self) -> None:
        object.__setattr__(self, "next", Next(self.next))

    def check(self) -> None:
        """Raise Invalid with every problem of this reason, in one sentence."""
        problems = []
        if not CODE.match(self.code):
            problems.append(f"code {self.code!r} must be 2-40 lower-case letters, digits or _")
        if not self.label.strip() or len(self.label) > 200:
            problems.append("label must be 1-200 characters")
        if self.pause_minutes is not None and not 1 <= self.pause_minutes <= MAX_PAUSE_MINUTES:
            problems.append(f"pause_minutes must be 1-{MAX_PAUSE_MINUTES} (or null: no pause)")
        if problems:
            raise Invalid(f"reject reason {self.code}: " + "; ".join(problems))

    def doc(self) -> dict[str, Any]:
        """What a version keeps."""
        d = asdict(self)
        d["next"] = self.next.value
        d.pop("version")
        return d

    def effects(self) -> str:
        """The reason's effect, in words (for the trace and the staff's page)."""
        what = []
        if self.zero_stock:
            what.append("the node's stock of these materials goes to 0")
        if self.request_count:
            what.append("a cycle count is requested")
        if self.pause_minutes:
            what.append(f"the node is paused for {self.pause_minutes} min")
        where = {
            Next.NEXT_BEST_NODE: "re-sourced to the next best node",
            Next.WAREHOUSES_ONLY: "re-sourced to a warehouse",
            Next.BACKORDER: "the order waits for stock (backorder)",
        }[self.next]
        return "; ".join([*what, where])


# when the table has no row for short_pick (deleted by hand), a shortage still works this way
DEFAULT_SHORT_PICK = RejectReason(
    SHORT_PICK, "short at picking", zero_stock=True, request_count=True, system=True
)
# what the migration fulfillment0005 seeds (its own frozen copy): the reasons an installation starts with
SEEDED = (
    RejectReason("out_of_stock", "库存不足 out of stock", zero_stock=True, request_count=True),
    RejectReason("too_busy", "人手不足 too busy", pause_minutes=30),
    RejectReason("out_of_range", "超出配送范围 out of range"),
    RejectReason(SHORT_PICK, "拣货缺货 short at picking", zero_stock=True, request_count=True, system=True),
)
