"""What operations configure and look at for store tasks: the reject reasons (every save a version, with
who saved it), SLA policies per node and channel, node pauses, cycle-count requests, and an order's
rejections. A cycle-count request closes when inventory records a count of that material at that node
(`inventory.stock-changed` with movement `count`), or when someone closes it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from omni_chassis.logging import get_logger
from omni_contracts import Envelope, utcnow

from ..domain.errors import Conflict, NotFound
from ..domain.reject_reasons import RejectReason
from ..domain.sla import SlaPolicy
from .common import Uow

log = get_logger(__name__)


# -- reject reasons ----------------------------------------------------------------------------------------
async def list_reasons(uow: Uow, active: bool | None = None) -> list[RejectReason]:
    async with uow:
        return await uow.repo.list_reasons(active=active)


async def get_reason(uow: Uow, code: str) -> tuple[RejectReason, list[dict[str, Any]]]:
    async with uow:
        found = await uow.repo.get_reason(code)
        if found is None:
            raise NotFound(f"no reject reason {code}")
        return found, await uow.repo.reason_versions(code)


async def put_reason(uow: Uow, reason: RejectReason, by: str | None) -> tuple[RejectReason, bool]:
    """Create or replace a reason: a new version (1 when new); returns it and whether it was created."""
    reason.check()
    async with uow:
        before = await uow.repo.get_reason(reason.code, lock=True)
        last = await uow.repo.last_reason_version(reason.code)  # a deleted reason's numbers go on
        system = before.system if before else False
        saved = replace(reason, version=last + 1, system=system)
        if before is not None and before.doc() == saved.doc():
            return before, False  # nothing changed: no new version
        await uow.repo.save_reason(saved, by, utcnow())
    log.info("reject reason saved", code=saved.code, version=saved.version, by=by)
    return saved, before is None


async def delete_reason(uow: Uow, code: str, by: str | None) -> RejectReason:
    async with uow:
        found = await uow.repo.get_reason(code, lock=True)
        if found is None:
            raise NotFound(f"no reject reason {code}")
        if found.system:
            raise Conflict(f"{code} is used by fulfillment itself: edit it or make it inactive instead")
        await uow.repo.delete_reason(found, by, utcnow())
    log.info("reject reason deleted", code=code, by=by)
    return found


# -- SLA policies --------------------------------------------------------------------------------------------
async def list_sla_policies(uow: Uow, node_code: str | None = None) -> list[SlaPolicy]:
    async with uow:
        return await uow.repo.list_sla_policies(node_code)


async def put_sla_policy(uow: Uow, policy: SlaPolicy, by: str | None) -> bool:
    """Create or replace; it applies to the SLAs started from now on (running timers keep their time)."""
    policy.check()
    async with uow:
        created = await uow.repo.put_sla_policy(policy, by, utcnow())
    log.info("SLA policy saved", node_code=policy.node_code, channel=policy.channel, by=by)
    return created


async def delete_sla_policy(uow: Uow, node_code: str, channel: str) -> None:
    async with uow:
        if not await uow.repo.delete_sla_policy(node_code, channel):
            raise NotFound(f"no SLA policy for node {node_code} and channel {channel}")


# -- node pauses ---------------------------------------------------------------------------------------------
async def list_pauses(uow: Uow, now: datetime | None = None) -> dict[str, tuple[datetime, str]]:
    async with uow:
        return await uow.repo.paused_nodes(now or utcnow())


async def resume_node(uow: Uow, code: str) -> None:
    async with uow:
        if not await uow.repo.resume_node(code):
            raise NotFound(f"node {code} is not paused")
    log.info("node resumed", node_code=code)


# -- cycle-count requests and rejections ---------------------------------------------------------------------
async def list_count_requests(
    uow: Uow, *, node_code: str | None, open_only: bool, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    async with uow:
        return await uow.repo.list_count_requests(
            node_code=node_code, open_only=open_only, limit=limit, offset=offset
        )


async def close_count_request(uow: Uow, request_id: int, by: str) -> None:
    async with uow:
        if not await uow.repo.close_count_requests((), by, utcnow(), request_id=request_id):
            raise NotFound(f"no open cycle-count request {request_id}")


async def on_counts(uow: Uow, envs: Sequence[Envelope[Any]]) -> None:
    """Inventory recorded counts (stock-changed, movement count): their requests are done."""
    pairs = {
        (e.data.node_code, e.data.material_code) for e in envs if getattr(e.data, "movement", "") == "count"
    }
    if pairs:
        async with uow:
            n = await uow.repo.close_count_requests(pairs, "inventory count", utcnow())
        if n:
            log.info("cycle-count requests done", closed=n)


async def order_rejections(uow: Uow, order_id: str) -> list[dict[str, Any]]:
    async with uow:
        return await uow.repo.order_rejections(order_id)
