"""An in-memory repository of the shipment write-back (store_writeback.py's semantics) for use-case tests."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from omni_channel.domain.writeback import Shipment, Transition
from omni_channel.store import ShopCredentials


class FakeWritebackRepository:
    def __init__(self) -> None:
        self.refs: dict[tuple[str, str], dict[str, Any]] = {}  # (order id, platform order id) -> ref
        self.rows: dict[str, dict[str, Any]] = {}
        self.shops: dict[tuple[str, str], ShopCredentials] = {}
        self._snapshot: Any = None

    def begin(self) -> None:
        self._snapshot = copy.deepcopy((self.refs, self.rows))

    def commit(self) -> None:
        self._snapshot = None

    def rollback(self) -> None:
        self.refs, self.rows = self._snapshot
        self._snapshot = None

    async def lock_order(self, order_id: str) -> None:
        pass

    async def put_order_ref(
        self,
        *,
        order_id: str,
        channel: str,
        shop_id: str,
        channel_order_id: str,
        source_order_id: str | None,
        now: datetime,
    ) -> None:
        self.refs.setdefault(
            (order_id, channel_order_id),
            {
                "order_id": order_id,
                "channel": channel,
                "shop_id": shop_id,
                "channel_order_id": channel_order_id,
                "source_order_id": source_order_id,
                "created_at": now,
            },
        )

    async def order_refs(self, order_id: str) -> list[dict[str, Any]]:
        found = [r for r in self.refs.values() if r["order_id"] == order_id]
        return sorted(found, key=lambda r: (r["created_at"], r["channel_order_id"]))

    async def waiting_writebacks(self, order_id: str) -> list[dict[str, Any]]:
        found = [r for r in self.rows.values() if r["order_id"] == order_id and r["state"] == "waiting"]
        return [dict(r) for r in sorted(found, key=lambda r: r["writeback_id"])]

    async def release_writeback(self, writeback_id: str, ref: dict[str, Any], now: datetime) -> None:
        r = self.rows[writeback_id]
        if r["state"] == "waiting":
            r.update(
                channel=ref["channel"],
                shop_id=ref["shop_id"],
                channel_order_id=ref["channel_order_id"],
                source_order_id=ref["source_order_id"],
                state="pending",
                next_attempt_at=now,
                last_error=None,
                updated_at=now,
            )

    async def drop_waiting_writeback(self, writeback_id: str) -> None:
        if self.rows.get(writeback_id, {}).get("state") == "waiting":
            del self.rows[writeback_id]

    async def add_writeback(self, row: dict[str, Any], now: datetime) -> bool:
        assert not {"attempts", "created_at", "updated_at"} & set(row), "the store sets them (a TypeError)"
        if row["writeback_id"] in self.rows:
            return False
        base = {
            "source_order_id": None,
            "channel": None,
            "shop_id": None,
            "channel_order_id": None,
            "company_code": None,
            "code": None,
            "sub_code": None,
            "claim_token": None,
            "claimed_until": None,
            "acknowledged_at": None,
            "last_attempt_at": None,
        }
        self.rows[row["writeback_id"]] = {**base, **row, "attempts": 0, "created_at": now, "updated_at": now}
        return True

    async def claim_due_writebacks(
        self, *, now: datetime, lease_until: datetime, limit: int, token: str
    ) -> list[Shipment]:
        due = sorted(
            (
                r
                for r in self.rows.values()
                if r["next_attempt_at"] is not None
                and r["next_attempt_at"] <= now
                and (r["claimed_until"] is None or r["claimed_until"] < now)
            ),
            key=lambda r: r["next_attempt_at"],
        )[:limit]
        for r in due:
            r.update(claim_token=token, claimed_until=lease_until)
        return [
            Shipment(
                r["writeback_id"],
                r["order_id"],
                r["channel"] or "",
                r["shop_id"] or "",
                r["channel_order_id"] or "",
                r["carrier"],
                r["tracking_no"],
                r["attempts"],
                token,
            )
            for r in due
        ]

    async def shops_credentials(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], ShopCredentials]:
        return {k: self.shops[k] for k in keys if k in self.shops}

    async def lock_claimed_writeback(self, writeback_id: str, token: str) -> bool:
        return self.rows[writeback_id]["claim_token"] == token

    async def finish_writeback(
        self, writeback_id: str, t: Transition, answer: dict[str, Any], now: datetime
    ) -> None:
        r = self.rows[writeback_id]
        r.update(
            state=t.state.value,
            next_attempt_at=t.next_attempt_at,
            attempts=t.attempts,
            last_error=t.last_error,
            code=answer.get("code"),
            sub_code=answer.get("sub_code"),
            last_attempt_at=now,
            claim_token=None,
            claimed_until=None,
            updated_at=now,
        )
        if answer.get("company_code"):
            r["company_code"] = answer["company_code"]
        if t.acknowledged:
            r["acknowledged_at"] = now

    async def parcel_sent_before(self, order_id: str, channel_order_id: str, writeback_id: str) -> str | None:
        sent = [r for r in self.rows.values() if r["order_id"] == order_id
                and r["channel_order_id"] == channel_order_id and r["writeback_id"] != writeback_id
                and r["state"] == "acknowledged"]  # fmt: skip
        return sent[0]["tracking_no"] if sent else None

    async def next_writeback_due_at(self) -> datetime | None:
        due = [r["next_attempt_at"] for r in self.rows.values() if r["next_attempt_at"] is not None]
        return min(due) if due else None

    async def retry_writeback(self, writeback_id: str, now: datetime) -> str | None:
        r = self.rows.get(writeback_id)
        if r is None:
            return None
        before = r["state"]
        if before != "waiting":
            r.update(state="pending", next_attempt_at=now, attempts=0, updated_at=now)
        return before

    async def list_writebacks(
        self, *, filters: dict[str, str | None], limit: int, offset: int
    ) -> tuple[list[dict[str, Any]], int]:
        found = [
            r for r in self.rows.values() if all(r.get(k) == v for k, v in filters.items() if v is not None)
        ]
        found.sort(key=lambda r: r["writeback_id"])
        found.sort(key=lambda r: r["created_at"], reverse=True)
        return [dict(r) for r in found[offset : offset + limit]], len(found)

    async def get_writeback(self, writeback_id: str) -> dict[str, Any] | None:
        return self.rows.get(writeback_id)
