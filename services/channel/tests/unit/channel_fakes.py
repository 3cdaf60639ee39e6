"""An in-memory channel repository with the SQL one's semantics (shops upserted by (channel, shop id); one
receipt per (channel, order id, payload digest), a repeat bumps its delivery count; the push status in
push_fakes.FakePushQueries), for use-case tests."""

from __future__ import annotations

import copy
import uuid
from datetime import datetime
from typing import Any

from push_fakes import FakePushQueries

from omni_channel.store import ShopCredentials
from omni_contracts import utcnow

WRITE_ONLY = ("secret", "session_key")


class FakeRepository(FakePushQueries):
    def __init__(self) -> None:
        super().__init__()
        self.shops: dict[tuple[str, str], dict[str, Any]] = {}
        self.receipts: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._snapshot: tuple[Any, ...] | None = None

    def begin(self) -> None:
        self._snapshot = copy.deepcopy(
            (self.shops, self.receipts, self.status, self.attempts, self.schedules)
        )

    def commit(self) -> None:
        self._snapshot = None

    def rollback(self) -> None:
        assert self._snapshot is not None
        self.shops, self.receipts, self.status, self.attempts, self.schedules = self._snapshot
        self._snapshot = None

    async def upsert_shop(
        self,
        *,
        channel: str,
        shop_id: str,
        name: str,
        app_key: str,
        secret: str,
        active: bool,
        session_key: str | None = None,
        accepts_on_account: bool = False,
    ) -> tuple[dict, bool]:
        now = utcnow()
        created = (channel, shop_id) not in self.shops
        before = self.shops.get((channel, shop_id), {"created_at": now, "session_key": None})
        self.shops[(channel, shop_id)] = {
            "channel": channel,
            "shop_id": shop_id,
            "name": name,
            "app_key": app_key,
            "secret": secret,
            "session_key": session_key if session_key is not None else before["session_key"],
            "active": active,
            "accepts_on_account": accepts_on_account,
            "credentials_error": None,
            "credentials_error_at": None,
            "created_at": before["created_at"],
            "updated_at": now,
        }
        return await self.get_shop(channel, shop_id), created  # type: ignore[return-value]

    def _shop_view(self, shop: dict[str, Any]) -> dict[str, Any]:
        view = {k: v for k, v in shop.items() if k not in WRITE_ONLY}
        return {**view, "has_session_key": shop["session_key"] is not None}

    async def get_shop(self, channel: str, shop_id: str) -> dict | None:
        shop = self.shops.get((channel, shop_id))
        return None if shop is None else self._shop_view(shop)

    async def list_shops(
        self, *, channel: str | None, active: bool | None, limit: int, offset: int
    ) -> tuple[list[dict], int]:
        found = [
            self._shop_view(s)
            for key, s in sorted(self.shops.items())
            if (channel is None or key[0] == channel) and (active is None or s["active"] == active)
        ]
        return found[offset : offset + limit], len(found)

    async def release_shop_writebacks(self, channel: str, shop_id: str, now: datetime) -> int:
        return 0  # the write-backs' fake is writeback_fakes.py

    async def shop_credentials(self, channel: str, shop_id: str) -> ShopCredentials | None:
        return (await self.shops_credentials([(channel, shop_id)])).get((channel, shop_id))

    async def shops_credentials(self, keys: list[tuple[str, str]]) -> dict[tuple[str, str], ShopCredentials]:
        out = {}
        for channel, shop_id in keys:
            s = self.shops.get((channel, shop_id))
            if s is not None:
                out[(channel, shop_id)] = ShopCredentials(
                    channel,
                    shop_id,
                    s["app_key"],
                    s["secret"],
                    s["active"],
                    s["session_key"],
                    s["credentials_error"],
                    accepts_on_account=s["accepts_on_account"],
                )
        return out

    async def block_shop(self, channel: str, shop_id: str, reason: str, now: datetime) -> None:
        shop = self.shops.get((channel, shop_id))
        if shop is not None:
            shop.update(credentials_error=reason[:500], credentials_error_at=now)

    async def record_receipt(
        self,
        *,
        channel: str,
        channel_order_id: str,
        payload_sha256: str,
        shop_id: str,
        channel_status: str,
        outcome: str,
        reason: str | None,
        event_id: uuid.UUID | None,
        now: datetime,
    ) -> int:
        key = (channel, channel_order_id, payload_sha256)
        row = self.receipts.get(key)
        if row is None:
            row = self.receipts[key] = {
                "channel": channel,
                "channel_order_id": channel_order_id,
                "payload_sha256": payload_sha256,
                "shop_id": shop_id,
                "channel_status": channel_status,
                "deliveries": 0,
                "received_at": now,
            }
        row.update(outcome=outcome, reason=reason, event_id=event_id, last_received_at=now)
        row["deliveries"] += 1
        return row["deliveries"]

    async def list_receipts(
        self,
        *,
        channel: str | None,
        shop_id: str | None,
        channel_order_id: str | None,
        limit: int,
        offset: int,
    ) -> tuple[list[dict], int]:
        want = {"channel": channel, "shop_id": shop_id, "channel_order_id": channel_order_id}
        found = [
            dict(r)
            for r in sorted(self.receipts.values(), key=lambda r: r["last_received_at"], reverse=True)
            if all(v is None or r[k] == v for k, v in want.items())
        ]
        return found[offset : offset + limit], len(found)
