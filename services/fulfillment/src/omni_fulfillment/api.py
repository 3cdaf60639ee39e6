"""REST routes: thin. Validate, call the service, shape the answer.

Store staff come through the gateway with the trusted header `X-Omni-Node-Scope: <node code>`: they see and
work only their node's tasks, and cannot change nodes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

from fastapi import APIRouter, Header, HTTPException, Path, Response
from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat

from omni_chassis.app import Uow
from omni_chassis.paging import JsonInt, Limit, Offset, PageInfo

from . import service
from .domain.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from .domain.nodes import Node, NodeType
from .domain.order_sourcing import OrderSourcing

router = APIRouter()

SCOPE_HEADER = "X-Omni-Node-Scope"
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.\-]*$"
NodeCode = Annotated[str, Field(min_length=1, max_length=64, pattern=CODE_PATTERN)]
Text64 = Annotated[str, Field(min_length=1, max_length=64)]
Scope = Annotated[str | None, Header(alias=SCOPE_HEADER, description="set by the gateway for store staff")]

_STATUS = {NotFound: 404, Conflict: 409, Invalid: 422, Forbidden: 403}


@contextmanager
def _errors() -> Iterator[None]:
    """A domain error (the use case's unit of work rolled back) becomes a 4xx with its sentence."""
    try:
        yield
    except DomainError as exc:
        raise HTTPException(_STATUS.get(type(exc), 400), str(exc)) from exc


def _scope(scope: str | None) -> str | None:
    if scope is not None and not scope.strip():
        raise HTTPException(403, f"the {SCOPE_HEADER} header is empty: it must name the staff member's node")
    return scope.strip() if scope is not None else None


def _no_scope(scope: str | None) -> None:
    if scope is not None:
        raise HTTPException(403, "store staff cannot change nodes; ask operations")


# -- nodes ---------------------------------------------------------------------------------------------------
class NodeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    type: NodeType
    city: str = Field("", max_length=100)
    lat: StrictFloat = Field(ge=-90, le=90)
    lng: StrictFloat = Field(ge=-180, le=180)
    priority: JsonInt = Field(0, ge=-1_000_000, le=1_000_000, description="higher wins a tie")
    active: StrictBool = True

    def node(self, code: str) -> Node:
        return Node(code, self.name, self.type, self.city, self.lat, self.lng, self.priority, self.active)


class NodeCreate(NodeBody):
    code: NodeCode


class NodeReplace(NodeBody):
    code: NodeCode | None = Field(None, description="optional; when given it must be the code of the path")


class NodeOut(BaseModel):
    code: str
    name: str
    type: NodeType
    city: str
    lat: float
    lng: float
    priority: int
    active: bool

    @classmethod
    def of(cls, n: Node) -> NodeOut:
        return cls(
            code=n.code,
            name=n.name,
            type=n.type,
            city=n.city,
            lat=n.lat,
            lng=n.lng,
            priority=n.priority,
            active=n.active,
        )


class NodePage(PageInfo):
    items: list[NodeOut]
    total: int
    limit: int
    offset: int


@router.post("/nodes", status_code=201, response_model=NodeOut, tags=["nodes"])
async def create_node(body: NodeCreate, uow: Uow, scope: Scope = None) -> NodeOut:
    _no_scope(scope)
    with _errors():
        return NodeOut.of(await service.create_node(uow, body.node(body.code)))


@router.put(
    "/nodes/{code}",
    response_model=NodeOut,
    tags=["nodes"],
    responses={
        201: {"model": NodeOut, "description": "created"},
        422: {"description": "invalid, or the body's code differs from the path's (problem details)"},
    },
)
async def put_node(
    body: NodeReplace,
    uow: Uow,
    response: Response,
    code: Annotated[str, Path(min_length=1, max_length=64, pattern=CODE_PATTERN)],
    scope: Scope = None,
) -> NodeOut:
    """Create or replace a node (201 when created, 200 when replaced)."""
    _no_scope(scope)
    if body.code is not None and body.code != code:
        raise HTTPException(422, f"the body's code {body.code} differs from the path's {code}")
    node = body.node(code)
    with _errors():
        created = await service.put_node(uow, node)
    response.status_code = 201 if created else 200
    return NodeOut.of(node)


@router.get("/nodes/{code}", response_model=NodeOut, tags=["nodes"])
async def get_node(code: str, uow: Uow) -> NodeOut:
    with _errors():
        return NodeOut.of(await service.get_node(uow, code))


@router.get("/nodes", response_model=NodePage, tags=["nodes"])
async def list_nodes(
    uow: Uow,
    type: NodeType | None = None,
    active: bool | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> NodePage:
    with _errors():
        found, total = await service.list_nodes(uow, type=type, active=active, limit=limit, offset=offset)
    return NodePage(items=[NodeOut.of(n) for n in found], total=total, limit=limit, offset=offset)


@router.delete("/nodes/{code}", response_model=NodeOut, tags=["nodes"])
async def deactivate_node(code: str, uow: Uow, scope: Scope = None) -> NodeOut:
    """Nodes are never deleted (tasks refer to them): the node is deactivated and sourcing skips it."""
    _no_scope(scope)
    with _errors():
        return NodeOut.of(await service.deactivate_node(uow, code))


# -- tasks: api_tasks.py (and what they are configured with: api_task_config.py) -----------------------
class LineOut(BaseModel):
    material_code: str
    qty: int


# -- sourcing (what operations look at when an order is stuck) -----------------------------------------------
class ReservationOut(BaseModel):
    reservation_id: str
    node_code: str
    attempt: int
    status: str
    group: str | None = Field(None, description="split by type: the group of its lines; null: the main group")
    lines: list[LineOut]


class SourcingOut(BaseModel):
    order_id: str
    status: str
    attempt: int
    pickup_node: str | None
    excluded_nodes: list[str]
    reason: str
    lines: list[LineOut]
    reservations: list[ReservationOut]

    @classmethod
    def of(cls, o: OrderSourcing) -> SourcingOut:
        return cls(
            order_id=o.order_id,
            status=o.status.value,
            attempt=o.attempt,
            pickup_node=o.pickup_node,
            excluded_nodes=list(o.excluded),
            reason=o.reason,
            lines=[LineOut(material_code=x.material_code, qty=x.qty) for x in o.lines],
            reservations=[
                ReservationOut(
                    reservation_id=r.reservation_id,
                    node_code=r.node_code,
                    attempt=r.attempt,
                    status=r.status.value,
                    group=r.group,
                    lines=[LineOut(material_code=x.material_code, qty=x.qty) for x in r.lines],
                )
                for r in o.reservations
            ],
        )


@router.get("/sourcing/{order_id}", response_model=SourcingOut, tags=["sourcing"])
async def get_sourcing(order_id: str, uow: Uow, scope: Scope = None) -> SourcingOut:
    if _scope(scope) is not None:
        raise HTTPException(403, "store staff cannot read an order's sourcing; see your node's tasks")
    with _errors():
        return SourcingOut.of(await service.get_sourcing(uow, order_id))


@router.get("/stock/{node_code}/{material_code}", tags=["stock"])
async def get_stock(node_code: str, material_code: str, uow: Uow) -> dict[str, object]:
    """What sourcing believes is available at a node (the projection of inventory.stock-changed)."""
    with _errors():
        found = await service.stock_view(uow, node_code, material_code)
    return {"node_code": node_code, "material_code": material_code, "available": found[0], "seq": found[1]}
