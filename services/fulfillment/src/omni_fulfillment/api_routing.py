"""REST routes of a node's routing settings and state: thin (validate, call the service, shape the answer).

    GET /nodes/{code}/routing   its business hours, holidays, capacity, same-city radius, load band, pools,
                                and whether it is dedicated to high-value goods
    PUT /nodes/{code}/routing   replace them (the next batch sourcing reads them: no restart)
    GET /nodes/{code}/load      its open tasks and orders today now, and whether it is closed or full

Store staff (the gateway's node scope header) may read their own node's, never change them.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Path
from pydantic import BaseModel, ConfigDict, Field, StrictBool

from omni_chassis.app import Uow
from omni_chassis.paging import json_int

from .api import CODE_PATTERN, Scope, _errors, _no_scope, _scope
from .domain.hours import DEFAULT_TIMEZONE
from .domain.nodes import DEFAULT_LOAD_BAND_KM, Node, NodeRouting
from .rows_routing import opening_hours, routing_values
from .service import nodes as node_service

router = APIRouter()

HHMM = r"^(([01][0-9]|2[0-3]):[0-5][0-9]|24:00)$"
PathCode = Annotated[str, Path(min_length=1, max_length=64, pattern=CODE_PATTERN)]
PoolCode = Annotated[str, Field(min_length=1, max_length=64, pattern=CODE_PATTERN)]
Km = Annotated[float, Field(gt=0, le=200)]


class WindowBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    opens: str = Field(pattern=HHMM, examples=["09:00"])
    closes: str = Field(
        pattern=HHMM, examples=["21:00"], description="exclusive; 24:00 is the end of the day"
    )


class WeeklyBody(WindowBody):
    day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class HolidayBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    date: dt.date
    name: str = Field("", max_length=100)
    windows: list[WindowBody] = Field(default=[], max_length=8, description="empty: closed all day")


class RoutingBody(BaseModel):
    """A node's routing settings; every field has its default (a node that is always open, without limits)."""

    model_config = ConfigDict(extra="forbid")

    timezone: str = Field(DEFAULT_TIMEZONE, min_length=1, max_length=64, description="an IANA time zone")
    hours: list[WeeklyBody] = Field(
        default=[], max_length=70, description="weekly opening windows in its zone; none: open all the time"
    )
    holidays: list[HolidayBody] = Field(default=[], max_length=400)
    orders_per_day: json_int(0, 1_000_000) | None = Field(  # type: ignore[valid-type]
        None, description="orders it takes a day (from its local midnight); null: no limit"
    )
    max_open_tasks: json_int(0, 1_000_000) | None = Field(  # type: ignore[valid-type]
        None, description="open tasks it may have; null: no limit"
    )
    same_city_radius_km: Km | None = Field(
        None, description="a store: how far it delivers same-city orders; null: it does not"
    )
    load_band_km: float = Field(
        DEFAULT_LOAD_BAND_KM,
        ge=0,
        le=100,
        description="when it is the nearest node that can ship an order, the nodes at most this much farther "
        "compete with it on load (the fewer open tasks win)",
    )
    pools: list[PoolCode] = Field(default=[], max_length=50, description="pools it is in (route hints)")
    high_value: StrictBool = Field(False, description="dedicated to high-value goods")

    def routing(self) -> NodeRouting:
        """The domain's settings; a 422 with the sentence when they do not hold together."""
        try:
            return NodeRouting(
                hours=opening_hours(
                    self.timezone,
                    [w.model_dump() for w in self.hours],
                    [h.model_dump() for h in self.holidays],
                ),
                orders_per_day=self.orders_per_day,
                max_open_tasks=self.max_open_tasks,
                same_city_radius_km=self.same_city_radius_km,
                load_band_km=self.load_band_km,
                pools=tuple(self.pools),
                high_value=self.high_value,
            )
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from exc


class RoutingOut(RoutingBody):
    node_code: str

    @classmethod
    def of(cls, n: Node) -> RoutingOut:
        return cls.model_validate({"node_code": n.code, **routing_values(n.routing)})


class LoadOut(BaseModel):
    node_code: str
    active: bool
    open_tasks: int = Field(description="tasks not done yet, and reservations on their way to becoming one")
    orders_today: int = Field(description="orders given to it since its local midnight")
    closed: str | None = Field(description="why it is closed now (null: open)")
    full: str | None = Field(description="why it takes no more orders now (null: it does)")


def _own(scope: str | None, code: str) -> None:
    s = _scope(scope)
    if s is not None and s != code:
        raise HTTPException(404, f"node {code} does not exist")


@router.get("/nodes/{code}/routing", response_model=RoutingOut, tags=["nodes"])
async def get_node_routing(code: PathCode, uow: Uow, scope: Scope = None) -> RoutingOut:
    _own(scope, code)
    with _errors():
        return RoutingOut.of(await node_service.get_node(uow, code))


@router.put(
    "/nodes/{code}/routing",
    response_model=RoutingOut,
    tags=["nodes"],
    responses={
        404: {"description": "no such node (problem details)"},
        422: {"description": "invalid settings, with the sentence (problem details)"},
    },
)
async def put_node_routing(code: PathCode, body: RoutingBody, uow: Uow, scope: Scope = None) -> RoutingOut:
    """Replace the node's routing settings, all of them (a field left out takes its default)."""
    _no_scope(scope)
    routing = body.routing()
    with _errors():
        return RoutingOut.of(await node_service.put_node_routing(uow, code, routing))


@router.get("/nodes/{code}/load", response_model=LoadOut, tags=["nodes"])
async def get_node_load(code: PathCode, uow: Uow, scope: Scope = None) -> LoadOut:
    """What sourcing would see of the node now."""
    _own(scope, code)
    with _errors():
        node, load, closed, full = await node_service.node_state(uow, code)
    return LoadOut(
        node_code=node.code,
        active=node.active,
        open_tasks=load.open_tasks,
        orders_today=load.orders_today,
        closed=closed,
        full=full,
    )
