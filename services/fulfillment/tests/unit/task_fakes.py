"""The in-memory half of the fake repository for store tasks' work (store_tasks.py): reject reasons and
their versions, actions, rejections, pauses, SLA policies, cycle-count requests, orders' channels. Its
state is one object (`work`), which the fake unit of work snapshots and restores with the rest."""

from __future__ import annotations

import copy
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from omni_fulfillment.domain.reject_reasons import Next, RejectReason
from omni_fulfillment.domain.sla import ANY, SlaPolicy

SEED = [
    RejectReason("out_of_stock", "out of stock", zero_stock=True, request_count=True),
    RejectReason("too_busy", "too busy", pause_minutes=30),
    RejectReason("out_of_range", "out of range"),
    RejectReason("short_pick", "short at picking", zero_stock=True, request_count=True, system=True),
]


@dataclass
class Work:
    refs: dict[str, tuple[str, str, str]] = field(default_factory=dict)
    reasons: dict[str, RejectReason] = field(default_factory=lambda: {r.code: r for r in SEED})
    versions: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    actions: dict[str, dict[str, Any]] = field(default_factory=dict)
    rejections: list[dict[str, Any]] = field(default_factory=list)
    pauses: dict[str, tuple[datetime, str, str | None]] = field(default_factory=dict)
    policies: dict[tuple[str, str], SlaPolicy] = field(default_factory=dict)
    counts: list[dict[str, Any]] = field(default_factory=list)


class FakeTaskStore:
    nodes: dict[str, Any]

    def __init__(self) -> None:
        self.work = Work()

    async def save_order_refs(self, rows: Sequence[tuple[str, str, str, str]], now: datetime) -> None:
        for o, c, s, x in rows:
            self.work.refs.setdefault(o, (c, s, x))

    async def order_refs(self, order_ids: Iterable[str]) -> dict[str, tuple[str, str, str]]:
        return {o: self.work.refs[o] for o in set(order_ids) if o in self.work.refs}

    async def node_types(self, codes: Iterable[str]) -> dict[str, str]:
        return {c: self.nodes[c].type.value for c in set(codes) if c in self.nodes}

    # -- reasons -------------------------------------------------------------------------------------------
    async def list_reasons(self, *, active: bool | None = None) -> list[RejectReason]:
        return [r for _, r in sorted(self.work.reasons.items()) if active is None or r.active == active]

    async def get_reason(self, code: str, *, lock: bool = False) -> RejectReason | None:
        return self.work.reasons.get(code)

    async def save_reason(self, reason: RejectReason, by: str | None, now: datetime) -> None:
        self.work.reasons[reason.code] = reason
        self.work.versions.setdefault(reason.code, []).append(
            {"version": reason.version, "doc": reason.doc(), "changed_at": now, "changed_by": by}
        )

    async def delete_reason(self, reason: RejectReason, by: str | None, now: datetime) -> None:
        del self.work.reasons[reason.code]
        self.work.versions.setdefault(reason.code, []).append(
            {
                "version": reason.version + 1,
                "doc": {**reason.doc(), "deleted": True},
                "changed_at": now,
                "changed_by": by,
            }
        )

    async def last_reason_version(self, code: str) -> int:
        seen = [v["version"] for v in self.work.versions.get(code, [])]
        return max(seen, default=self.work.reasons[code].version if code in self.work.reasons else 0)

    async def reason_versions(self, code: str) -> list[dict[str, Any]]:
        return copy.deepcopy(self.work.versions.get(code, []))

    # -- actions, rejections ---------------------------------------------------------------------------------
    async def claim_action(
        self, action_id: str, task_id: str, action: str, digest: str, actor: str | None, now: datetime
    ) -> dict[str, Any] | None:
        if action_id in self.work.actions:
            return dict(self.work.actions[action_id])
        self.work.actions[action_id] = {
            "action_id": action_id,
            "task_id": task_id,
            "action": action,
            "digest": digest,
            "outcome": "done",
            "actor": actor,
            "detail": "",
            "at": now,
        }
        return None

    async def finish_action(self, action_id: str, outcome: str, detail: str = "") -> None:
        self.work.actions[action_id].update(outcome=outcome, detail=detail)

    async def task_actions(self, task_id: str) -> list[dict[str, Any]]:
        keys = ("action_id", "action", "outcome", "actor", "detail", "at")
        return [{k: a[k] for k in keys} for a in self.work.actions.values() if a["task_id"] == task_id]

    async def add_rejection(self, row: dict[str, Any]) -> None:
        self.work.rejections.append(dict(row))

    async def resources_used(self, order_id: str, first_attempt: int = 1) -> int:
        o = self.sourcings.get(order_id)  # type: ignore[attr-defined]
        attempts = {x.reservation_id: x.attempt for x in o.reservations} if o else {}
        tasks = self.tasks  # type: ignore[attr-defined]
        return sum(
            1
            for r in self.work.rejections
            if r["order_id"] == order_id
            and attempts.get(tasks[r["task_id"]].reservation_id, 0) >= first_attempt
        )

    async def order_rejections(self, order_id: str) -> list[dict[str, Any]]:
        return [dict(r) for r in self.work.rejections if r["order_id"] == order_id]

    # -- pauses, SLA policies, counts ------------------------------------------------------------------------
    async def pause_node(
        self, code: str, until: datetime, reason: str, task_id: str | None, now: datetime
    ) -> None:
        if code not in self.work.pauses or self.work.pauses[code][0] < until:
            self.work.pauses[code] = (until, reason, task_id)

    async def paused_nodes(self, now: datetime) -> dict[str, tuple[datetime, str]]:
        return {c: (u, r) for c, (u, r, _) in sorted(self.work.pauses.items()) if u > now}

    async def resume_node(self, code: str) -> bool:
        return self.work.pauses.pop(code, None) is not None

    async def sla_policies_for(self, node_codes: Iterable[str]) -> list[SlaPolicy]:
        codes = set(node_codes) | {ANY}
        return [p for (n, _), p in sorted(self.work.policies.items()) if n in codes]

    async def list_sla_policies(self, node_code: str | None = None) -> list[SlaPolicy]:
        return [p for (n, _), p in sorted(self.work.policies.items()) if node_code in (None, n)]

    async def put_sla_policy(self, p: SlaPolicy, by: str | None, now: datetime) -> bool:
        created = (p.node_code, p.channel) not in self.work.policies
        self.work.policies[(p.node_code, p.channel)] = p
        return created

    async def delete_sla_policy(self, node_code: str, channel: str) -> bool:
        return self.work.policies.pop((node_code, channel), None) is not None

    async def request_counts(
        self, node_code: str, materials: Iterable[str], task_id: str, reason_code: str, now: datetime
    ) -> None:
        open_ = {(r["node_code"], r["material_code"]) for r in self.work.counts if r["done_at"] is None}
        for m in sorted(set(materials)):
            if (node_code, m) not in open_:
                self.work.counts.append(
                    {
                        "id": len(self.work.counts) + 1,
                        "node_code": node_code,
                        "material_code": m,
                        "task_id": task_id,
                        "reason_code": reason_code,
                        "requested_at": now,
                        "done_at": None,
                        "done_by": None,
                    }
                )

    async def list_count_requests(
        self, *, node_code: str | None, open_only: bool, limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        found = [
            dict(r)
            for r in self.work.counts
            if node_code in (None, r["node_code"]) and (not open_only or r["done_at"] is None)
        ]
        return found[offset : offset + limit], len(found)

    async def close_count_requests(
        self, pairs: Iterable[tuple[str, str]], by: str, now: datetime, *, request_id: int | None = None
    ) -> int:
        pairs, n = set(pairs), 0
        for r in self.work.counts:
            hit = (
                r["id"] == request_id
                if request_id is not None
                else (r["node_code"], r["material_code"]) in pairs
            )
            if hit and r["done_at"] is None:
                r.update(done_at=now, done_by=by)
                n += 1
        return n


__all__ = ["SEED", "FakeTaskStore", "Next", "Work"]
