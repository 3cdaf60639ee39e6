"""Carriers, pin rules and the promise as data: created and changed through REST, used by the next choice
(no restart). Every save bumps the version, a save naming the version it started from (`base_version`) is
refused when another save came first, and every change is audited (who, what, the whole document)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from omni_chassis.logging import get_logger

from ..domain.carriers import Carrier, Health, Pin, Promise
from ..domain.errors import Conflict, Invalid, NotFound
from ..rows_carriers import carrier_doc, pin_doc, promise_doc
from .carriers import CarrierUow

log = get_logger(__name__)


def _check_base(kind: str, current: int, base: int | None) -> None:
    if base is not None and base != current:
        raise Conflict(f"{kind} is at version {current}, not {base}: read it again and redo the change")


async def put_carrier(
    uow: CarrierUow, c: Carrier, actor: str, base_version: int | None
) -> tuple[Carrier, bool]:
    """Create or replace a carrier (its health comes along; PUT /health changes only that)."""
    async with uow:
        repo = uow.repo
        old = await repo.get_carrier(c.code, lock=True)
        _check_base(f"carrier {c.code}", old.version if old else 0, base_version)
        saved = replace(c, version=(old.version + 1) if old else 1)
        await repo.save_carrier(saved)
        await repo.audit(f"carrier {c.code}", saved.version, "replaced" if old else "created", actor,
                         carrier_doc(saved))  # fmt: skip
    log.info("carrier saved", carrier=c.code, version=saved.version, actor=actor)
    return saved, old is None


async def set_health(uow: CarrierUow, code: str, health: Health, note: str, actor: str) -> Carrier:
    async with uow:
        repo = uow.repo
        old = await repo.get_carrier(code, lock=True)
        if old is None:
            raise NotFound(f"carrier {code} does not exist")
        saved = replace(old, health=health, health_note=note, version=old.version + 1)
        await repo.save_carrier(saved)
        await repo.audit(
            f"carrier {code}", saved.version, f"health {health.value}", actor, carrier_doc(saved)
        )
    log.info("carrier health set", carrier=code, health=health.value, actor=actor)
    return saved


async def deactivate_carrier(uow: CarrierUow, code: str, actor: str) -> Carrier:
    """Carriers are never deleted (choices name them): retired, routing no longer considers them."""
    async with uow:
        repo = uow.repo
        old = await repo.get_carrier(code, lock=True)
        if old is None:
            raise NotFound(f"carrier {code} does not exist")
        saved = replace(old, active=False, version=old.version + 1)
        await repo.save_carrier(saved)
        await repo.audit(f"carrier {code}", saved.version, "deactivated", actor, carrier_doc(saved))
    return saved


async def get_carrier(uow: CarrierUow, code: str) -> Carrier:
    async with uow:
        found = await uow.repo.get_carrier(code)
    if found is None:
        raise NotFound(f"carrier {code} does not exist")
    return found


async def list_carriers(
    uow: CarrierUow, *, active: bool | None, limit: int, offset: int
) -> tuple[list[Carrier], int]:
    async with uow:
        return await uow.repo.list_carriers(active=active, limit=limit, offset=offset)


async def history(
    uow: CarrierUow, subject: str, *, limit: int, offset: int
) -> tuple[list[dict[str, Any]], int]:
    """The audit of `carrier <code>`, `pin <rule id>` or `promise`, newest first."""
    async with uow:
        return await uow.repo.history(subject, limit=limit, offset=offset)


async def put_pin(uow: CarrierUow, p: Pin, actor: str, base_version: int | None) -> tuple[Pin, bool]:
    async with uow:
        repo = uow.repo
        if await repo.get_carrier(p.carrier) is None:
            raise Invalid(f"pin {p.rule_id} names carrier {p.carrier}, which does not exist")
        old = await repo.get_pin(p.rule_id, lock=True)
        _check_base(f"pin {p.rule_id}", old.version if old else 0, base_version)
        saved = replace(p, version=(old.version + 1) if old else 1)
        await repo.save_pin(saved)
        await repo.audit(f"pin {p.rule_id}", saved.version, "replaced" if old else "created", actor,
                         pin_doc(saved))  # fmt: skip
    log.info("carrier pin saved", rule_id=p.rule_id, carrier=p.carrier, version=saved.version, actor=actor)
    return saved, old is None


async def deactivate_pin(uow: CarrierUow, rule_id: str, actor: str) -> Pin:
    async with uow:
        repo = uow.repo
        old = await repo.get_pin(rule_id, lock=True)
        if old is None:
            raise NotFound(f"pin {rule_id} does not exist")
        saved = replace(old, active=False, version=old.version + 1)
        await repo.save_pin(saved)
        await repo.audit(f"pin {rule_id}", saved.version, "deactivated", actor, pin_doc(saved))
    return saved


async def get_pin(uow: CarrierUow, rule_id: str) -> Pin:
    async with uow:
        found = await uow.repo.get_pin(rule_id)
    if found is None:
        raise NotFound(f"pin {rule_id} does not exist")
    return found


async def list_pins(
    uow: CarrierUow, *, active: bool | None, limit: int, offset: int
) -> tuple[list[Pin], int]:
    async with uow:
        return await uow.repo.list_pins(active=active, limit=limit, offset=offset)


async def get_promise(uow: CarrierUow) -> Promise:
    async with uow:
        return await uow.repo.get_promise()


async def put_promise(uow: CarrierUow, p: Promise, actor: str, base_version: int | None) -> Promise:
    async with uow:
        repo = uow.repo
        old = await repo.get_promise(lock=True)
        _check_base("the promise", old.version, base_version)
        saved = replace(p, version=old.version + 1)
        await repo.save_promise(saved)
        await repo.audit("promise", saved.version, "replaced", actor, promise_doc(saved))
    log.info("delivery promise saved", version=saved.version, actor=actor)
    return saved
