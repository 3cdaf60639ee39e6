"""REST routes of carrier routing: carriers, pin rules and the delivery promise as data (versioned and
audited), a task's carrier choices, and a carrier refusing a parcel at ship time. Thin: validate, call the
service, shape the answer. Store staff (the gateway's `X-Omni-Node-Scope`) change none of the data; they
may report a refusal for their own node's tasks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Header, HTTPException, Path, Response

from omni_chassis.app import Uow
from omni_chassis.paging import Limit, Offset

from .api_carriers_models import (
    CODE_PATTERN,
    CarrierBody,
    CarrierOut,
    CarrierPage,
    ChoiceOut,
    HealthBody,
    PinBody,
    PinOut,
    PinPage,
    PromiseBody,
    PromiseOut,
    RefusedBody,
    RefusedOut,
    VersionOut,
    VersionPage,
)
from .domain.carriers import Promise
from .domain.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from .service import carrier_admin as admin
from .service import carriers as routing

router = APIRouter(tags=["carriers"])

CodePath = Annotated[str, Path(min_length=1, max_length=64, pattern=CODE_PATTERN)]
Scope = Annotated[
    str | None, Header(alias="X-Omni-Node-Scope", description="set by the gateway for store staff")
]
Principal = Annotated[str | None, Header(alias="X-Omni-Principal", description="set by the gateway: who")]

_STATUS = {NotFound: 404, Conflict: 409, Invalid: 422, Forbidden: 403}


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except DomainError as exc:
        raise HTTPException(_STATUS.get(type(exc), 400), str(exc)) from exc


def _staff_may_not(scope: str | None) -> None:
    if scope is not None:
        raise HTTPException(403, "store staff cannot change carriers; ask operations")


def _actor(principal: str | None) -> str:
    return (principal or "").strip()[:200] or "api"


# -- carriers ------------------------------------------------------------------------------------------------
@router.put("/carriers/{code}", response_model=CarrierOut, responses={201: {"model": CarrierOut}})
async def put_carrier(
    code: CodePath,
    body: CarrierBody,
    uow: Uow,
    response: Response,
    scope: Scope = None,
    who: Principal = None,
) -> CarrierOut:
    """Create or replace a carrier (201 when created): the next choice uses it."""
    _staff_may_not(scope)
    with _errors():
        saved, created = await admin.put_carrier(uow, body.carrier(code), _actor(who), body.base_version)
    response.status_code = 201 if created else 200
    return CarrierOut.of(saved)


@router.get("/carriers", response_model=CarrierPage)
async def list_carriers(
    uow: Uow, active: bool | None = None, limit: Limit = 50, offset: Offset = 0
) -> CarrierPage:
    with _errors():
        found, total = await admin.list_carriers(uow, active=active, limit=limit, offset=offset)
    return CarrierPage(items=[CarrierOut.of(c) for c in found], total=total, limit=limit, offset=offset)


@router.get("/carriers/{code}", response_model=CarrierOut)
async def get_carrier(code: CodePath, uow: Uow) -> CarrierOut:
    with _errors():
        return CarrierOut.of(await admin.get_carrier(uow, code))


@router.delete("/carriers/{code}", response_model=CarrierOut)
async def deactivate_carrier(
    code: CodePath, uow: Uow, scope: Scope = None, who: Principal = None
) -> CarrierOut:
    """Carriers are never deleted (choices name them): retired, routing no longer considers them."""
    _staff_may_not(scope)
    with _errors():
        return CarrierOut.of(await admin.deactivate_carrier(uow, code, _actor(who)))


@router.put("/carriers/{code}/health", response_model=CarrierOut)
async def set_health(
    code: CodePath, body: HealthBody, uow: Uow, scope: Scope = None, who: Principal = None
) -> CarrierOut:
    """healthy; degraded (taken only when no healthy carrier can); down (never taken)."""
    _staff_may_not(scope)
    with _errors():
        return CarrierOut.of(await admin.set_health(uow, code, body.state, body.note, _actor(who)))


async def _versions(uow: Any, subject: str, limit: int, offset: int) -> VersionPage:
    with _errors():
        found, total = await admin.history(uow, subject, limit=limit, offset=offset)
    items = [VersionOut(**{k: r[k] for k in ("version", "action", "actor", "at", "data")}) for r in found]
    return VersionPage(items=items, total=total, limit=limit, offset=offset)


@router.get("/carriers/{code}/versions", response_model=VersionPage)
async def carrier_versions(code: CodePath, uow: Uow, limit: Limit = 50, offset: Offset = 0) -> VersionPage:
    """Every change of the carrier, newest first: who, what, the whole carrier as saved."""
    return await _versions(uow, f"carrier {code}", limit, offset)


# -- pins ----------------------------------------------------------------------------------------------------
@router.put("/carrier-pins/{rule_id}", response_model=PinOut, responses={201: {"model": PinOut}})
async def put_pin(
    rule_id: CodePath, body: PinBody, uow: Uow, response: Response, scope: Scope = None, who: Principal = None
) -> PinOut:
    """Create or replace a pin rule: a carrier for a material (sku), a shop or a region."""
    _staff_may_not(scope)
    with _errors():
        saved, created = await admin.put_pin(uow, body.pin(rule_id), _actor(who), body.base_version)
    response.status_code = 201 if created else 200
    return PinOut.of(saved)


@router.get("/carrier-pins", response_model=PinPage)
async def list_pins(uow: Uow, active: bool | None = None, limit: Limit = 50, offset: Offset = 0) -> PinPage:
    with _errors():
        found, total = await admin.list_pins(uow, active=active, limit=limit, offset=offset)
    return PinPage(items=[PinOut.of(p) for p in found], total=total, limit=limit, offset=offset)


@router.get("/carrier-pins/{rule_id}", response_model=PinOut)
async def get_pin(rule_id: CodePath, uow: Uow) -> PinOut:
    with _errors():
        return PinOut.of(await admin.get_pin(uow, rule_id))


@router.delete("/carrier-pins/{rule_id}", response_model=PinOut)
async def deactivate_pin(rule_id: CodePath, uow: Uow, scope: Scope = None, who: Principal = None) -> PinOut:
    _staff_may_not(scope)
    with _errors():
        return PinOut.of(await admin.deactivate_pin(uow, rule_id, _actor(who)))


@router.get("/carrier-pins/{rule_id}/versions", response_model=VersionPage)
async def pin_versions(rule_id: CodePath, uow: Uow, limit: Limit = 50, offset: Offset = 0) -> VersionPage:
    return await _versions(uow, f"pin {rule_id}", limit, offset)


# -- the promise ---------------------------------------------------------------------------------------------
@router.get("/carrier-promise", response_model=PromiseOut)
async def get_promise(uow: Uow) -> PromiseOut:
    """The delivery days promised per region: the cheapest carrier within them is chosen."""
    with _errors():
        return PromiseOut.of(await admin.get_promise(uow))


@router.put("/carrier-promise", response_model=PromiseOut)
async def put_promise(body: PromiseBody, uow: Uow, scope: Scope = None, who: Principal = None) -> PromiseOut:
    _staff_may_not(scope)
    with _errors():
        promise = Promise(body.default_days, tuple(r.value() for r in body.regions))
        return PromiseOut.of(await admin.put_promise(uow, promise, _actor(who), body.base_version))


@router.get("/carrier-promise/versions", response_model=VersionPage)
async def promise_versions(uow: Uow, limit: Limit = 50, offset: Offset = 0) -> VersionPage:
    return await _versions(uow, "promise", limit, offset)


# -- a task's carrier ----------------------------------------------------------------------------------------
@router.get("/tasks/{task_id}/carriers", response_model=list[ChoiceOut], tags=["tasks"])
async def task_carriers(task_id: CodePath, uow: Uow, scope: Scope = None) -> list[ChoiceOut]:
    """Every carrier choice of the task, oldest first (the one in force is `current`)."""
    with _errors():
        found = await routing.carrier_history(uow, task_id, _scope(scope))
    return [ChoiceOut.model_validate(r) for r in found]


@router.post("/tasks/{task_id}/carrier-refused", response_model=RefusedOut, tags=["tasks"])
async def carrier_refused(task_id: CodePath, body: RefusedBody, uow: Uow, scope: Scope = None) -> RefusedOut:
    """The carrier refused the parcel at ship time: it is kept out of this parcel's choices and the next
    carrier is chosen (and traced). Then ship with that carrier (POST /tasks/{id}/ship)."""
    with _errors():
        task, refused, choice = await routing.carrier_refused(
            uow, task_id, body.carrier, body.reason, _scope(scope)
        )
    return RefusedOut(
        task_id=task.task_id, refused=refused, carrier=choice.carrier, cost_cents=choice.cost_cents,
        reason=choice.reason,
    )  # fmt: skip


def _scope(scope: str | None) -> str | None:
    if scope is not None and not scope.strip():
        raise HTTPException(
            403, "the X-Omni-Node-Scope header is empty: it must name the staff member's node"
        )
    return scope.strip() if scope is not None else None
