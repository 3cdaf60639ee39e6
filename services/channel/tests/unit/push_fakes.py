"""The push status in memory, with the SQL one's semantics (store_push.py): newest seq wins, claims with a
lease and a token, bounded attempt history, drift recorded only on an unchanged acknowledged row."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from omni_channel.domain.push_status import Claim, Listing, Transition
from omni_channel.store_push import PUSH_HISTORY


def _listing(r: dict[str, Any]) -> Listing:
    return Listing(r["listing_id"], r["channel"], r["shop_id"], r["channel_item_id"], r["channel_sku_id"])


class FakePushQueries:
    def __init__(self) -> None:
        self.status: dict[str, dict[str, Any]] = {}
        self.attempts: list[dict[str, Any]] = []
        self.schedules: dict[str, dict[str, Any]] = {}

    async def upsert_desired(self, rows: Sequence[dict[str, Any]], now: datetime) -> list[str]:
        changed = []
        for r in rows:
            held = self.status.get(r["listing_id"])
            if held is not None and held["desired_seq"] >= r["desired_seq"]:
                continue
            if held is None:
                held = self.status[r["listing_id"]] = {
                    "claim_token": None,
                    "claimed_until": None,
                    "pushed_qty": None,
                    "pushed_seq": None,
                    "acknowledged_at": None,
                    "platform_qty": None,
                    "platform_answer": None,
                    "drift_qty": None,
                    "drift_seen_at": None,
                    "drifts": 0,
                    "last_error": None,
                    "last_attempt_at": None,
                    "created_at": now,
                }
            held.update(r, state="pending", next_attempt_at=now, attempts=0, updated_at=now)
            changed.append(r["listing_id"])
        return changed

    def _free(self, r: dict[str, Any], now: datetime) -> bool:
        return r["claimed_until"] is None or r["claimed_until"] < now

    async def claim_due(self, *, now: datetime, lease_until: datetime, limit: int, token: str) -> list[Claim]:
        due = sorted(
            (
                r
                for r in self.status.values()
                if r["next_attempt_at"] is not None and r["next_attempt_at"] <= now and self._free(r, now)
            ),
            key=lambda r: r["next_attempt_at"],
        )[:limit]
        out = []
        for r in due:
            r.update(claim_token=token, claimed_until=lease_until)
            out.append(
                Claim(_listing(r), r["desired_qty"], r["desired_seq"], r["computed_at"], r["attempts"], token)
            )
        return out

    async def lock_claimed(self, listing_id: str, token: str) -> int | None:
        r = self.status.get(listing_id)
        return r["desired_seq"] if r is not None and r["claim_token"] == token else None

    async def finish_push(self, claim: Claim, t: Transition, answer: dict[str, Any], now: datetime) -> None:
        r = self.status[claim.listing.listing_id]
        r.update(
            state=t.state.value,
            next_attempt_at=t.next_attempt_at,
            attempts=t.attempts,
            last_attempt_at=now,
            claim_token=None,
            claimed_until=None,
            updated_at=now,
        )
        if t.last_error is not None or t.acknowledged:
            r["last_error"] = t.last_error
        if t.acknowledged:
            r.update(
                pushed_qty=claim.quantity,
                pushed_seq=claim.seq,
                acknowledged_at=now,
                platform_qty=answer.get("platform_qty"),
                platform_answer=answer.get("detail"),
            )
        await self.add_attempt(claim.listing.listing_id, "push", claim.seq, claim.quantity, answer, now)
        if t.blocks_shop:
            await self.block_shop(claim.listing.channel, claim.listing.shop_id, t.last_error or "", now)  # type: ignore[attr-defined]

    async def add_attempt(
        self, listing_id: str, kind: str, seq: int, quantity: int, answer: dict[str, Any], now: datetime
    ) -> None:
        self.attempts.append(
            {
                "id": len(self.attempts) + 1,
                "listing_id": listing_id,
                "kind": kind,
                "seq": seq,
                "quantity": quantity,
                "outcome": answer["outcome"],
                "detail": answer.get("detail"),
                "code": answer.get("code"),
                "sub_code": answer.get("sub_code"),
                "platform_qty": answer.get("platform_qty"),
                "started_at": answer.get("started_at", now),
                "finished_at": now,
            }
        )
        mine = [a for a in self.attempts if a["listing_id"] == listing_id]
        for old in mine[:-PUSH_HISTORY]:
            self.attempts.remove(old)

    async def next_due_at(self) -> datetime | None:
        due = [
            max(r["next_attempt_at"], r["claimed_until"] or r["next_attempt_at"])
            for r in self.status.values()
            if r["next_attempt_at"] is not None
        ]
        return min(due, default=None)

    def _release(self, rows: list[dict[str, Any]], now: datetime) -> int:
        for r in rows:
            r.update(state="pending", next_attempt_at=now, attempts=0, updated_at=now)
        return len(rows)

    async def release_shop(self, channel: str, shop_id: str, now: datetime) -> int:
        return self._release(
            [
                r
                for r in self.status.values()
                if (r["channel"], r["shop_id"], r["state"]) == (channel, shop_id, "credentials")
            ],
            now,
        )

    async def release_unsupported(self, channels: Sequence[str], now: datetime) -> int:
        return self._release(
            [r for r in self.status.values() if r["state"] == "unsupported" and r["channel"] in channels], now
        )

    async def resync(self, listing_id: str, now: datetime) -> bool:
        r = self.status.get(listing_id)
        return bool(r is not None and self._release([r], now))

    def _view(self, r: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in r.items() if k != "claim_token"}

    async def list_push_status(
        self, *, filters: dict[str, str | None], limit: int, offset: int
    ) -> tuple[list[dict], int]:
        found = [
            self._view(r)
            for _, r in sorted(self.status.items())
            if all(v is None or r[k] == v for k, v in filters.items())
        ]
        return found[offset : offset + limit], len(found)

    async def get_push_status(self, listing_id: str) -> dict | None:
        r = self.status.get(listing_id)
        return None if r is None else self._view(r)

    async def push_history(self, listing_id: str, limit: int = PUSH_HISTORY) -> list[dict]:
        return [a for a in reversed(self.attempts) if a["listing_id"] == listing_id][:limit]

    async def acknowledged_page(self, *, after: str, limit: int, now: datetime) -> list[dict]:
        rows = [
            r
            for k, r in sorted(self.status.items())
            if k > after
            and r["state"] == "acknowledged"
            and r["next_attempt_at"] is None
            and self._free(r, now)
        ][:limit]
        return [
            {
                **{
                    k: r[k]
                    for k in (
                        "listing_id",
                        "channel",
                        "shop_id",
                        "channel_item_id",
                        "channel_sku_id",
                        "pushed_qty",
                        "pushed_seq",
                        "acknowledged_at",
                    )
                },
                "listing": _listing(r),
            }
            for r in rows
        ]

    async def record_drift(
        self, listing_id: str, *, pushed_seq: int, acknowledged_at: datetime, shown: int, now: datetime
    ) -> bool:
        r = self.status.get(listing_id)
        if (
            r is None
            or r["state"] != "acknowledged"
            or r["pushed_seq"] != pushed_seq
            or r["acknowledged_at"] != acknowledged_at
            or r["next_attempt_at"] is not None
        ):
            return False
        r.update(
            drift_qty=shown,
            drift_seen_at=now,
            drifts=r["drifts"] + 1,
            state="pending",
            next_attempt_at=now,
            attempts=0,
            updated_at=now,
        )
        await self.add_attempt(
            listing_id, "drift", pushed_seq, r["pushed_qty"], {"outcome": "drift", "platform_qty": shown}, now
        )
        return True

    async def claim_schedule(self, name: str, *, now: datetime, next_run_at: datetime) -> bool:
        s = self.schedules.setdefault(name, {"next_run_at": now})
        if s["next_run_at"] > now:
            return False
        s.update(next_run_at=next_run_at, last_started_at=now)
        return True

    async def finish_schedule(self, name: str, *, now: datetime, result: str) -> None:
        self.schedules[name].update(last_finished_at=now, last_result=result)
