"""A task's service levels: how long its node has to accept it, to pick and pack it (or make it ready for
pickup), and how long a ready pickup waits for its buyer. Pure.

Defaults come from the service's settings, per node type: a store has all three (30 min, 60 min, 48 h by
default); a warehouse none (its WMS has its own), unless a policy gives it some. Policies (table
`sla_policies`) are per node and channel, either of which may be `*` (any): for each of the three values
the most specific policy that sets it wins (node and channel, then node, then channel, then `*`/`*`), and
a value of 0 means "no such SLA" (no timer).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .errors import Invalid

ANY = "*"
FIELDS = ("accept_s", "pick_pack_s", "pickup_hold_s")
MAX_S = 30 * 24 * 3600


@dataclass(frozen=True)
class Sla:
    accept_s: int = 0
    pick_pack_s: int = 0
    pickup_hold_s: int = 0


@dataclass(frozen=True)
class SlaDefaults:
    store: Sla = Sla(accept_s=30 * 60, pick_pack_s=60 * 60, pickup_hold_s=48 * 3600)
    warehouse: Sla = Sla(pickup_hold_s=48 * 3600)

    def of(self, node_type: str | None) -> Sla:
        return self.store if node_type == "store" else self.warehouse


@dataclass(frozen=True)
class SlaPolicy:
    node_code: str
    channel: str
    accept_s: int | None = None
    pick_pack_s: int | None = None
    pickup_hold_s: int | None = None

    def check(self) -> None:
        bad = [f for f in FIELDS if (v := getattr(self, f)) is not None and not 0 <= v <= MAX_S]
        if bad:
            raise Invalid(f"{', '.join(bad)} must be 0-{MAX_S} s (0: no such SLA; null: inherit)")
        if all(getattr(self, f) is None for f in FIELDS):
            raise Invalid("an SLA policy sets at least one of accept_s, pick_pack_s, pickup_hold_s")

    def rank(self, node_code: str, channel: str | None) -> int | None:
        """How specific this policy is for (node, channel); None when it does not apply."""
        node = self.node_code == node_code
        chan = channel is not None and self.channel == channel
        if (self.node_code != ANY and not node) or (self.channel != ANY and not chan):
            return None
        return (2 if node else 0) + (1 if chan else 0)


def resolve(policies: Iterable[SlaPolicy], node_code: str, channel: str | None, default: Sla) -> Sla:
    """The SLA of a task at `node_code` for an order of `channel` (see the module docstring)."""
    ranked = sorted(
        ((r, p) for p in policies if (r := p.rank(node_code, channel)) is not None),
        key=lambda rp: -rp[0],
    )
    values = {}
    for f in FIELDS:
        values[f] = next(
            (v for _, p in ranked if (v := getattr(p, f)) is not None),
            getattr(default, f),
        )
    return Sla(**values)
