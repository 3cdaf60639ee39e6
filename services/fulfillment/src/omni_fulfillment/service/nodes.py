"""Nodes (warehouses and stores): created, replaced, deactivated, their routing settings replaced; each change
published with the whole node (its routing settings too)."""

from __future__ import annotations

from dataclasses import replace

from omni_chassis.logging import get_logger
from omni_contracts import utcnow
from omni_contracts.events.fulfillment import NodeUpsertedV1

from ..domain.errors import Conflict, NotFound
from ..domain.nodes import Node, NodeLoad, NodeRouting, NodeType, full_why
from ..rows_routing import routing_values
from .common import Uow

log = get_logger(__name__)


def _node_event(node: Node) -> NodeUpsertedV1:
    return NodeUpsertedV1(
        node_code=node.code,
        name=node.name,
        type=node.type.value,
        city=node.city,
        lat=node.lat,
        lng=node.lng,
        priority=node.priority,
        active=node.active,
        **routing_values(node.routing),
    )


async def create_node(uow: Uow, node: Node) -> Node:
    async with uow:
        if not await uow.repo.insert_node(node):
            raise Conflict(f"node {node.code} already exists (PUT /nodes/{node.code} replaces it)")
        uow.emit(_node_event(node), key=node.code)
    log.info("node created", node_code=node.code, type=node.type.value)
    return node


async def put_node(uow: Uow, node: Node) -> bool:
    """Create or replace; True when created. A replaced node keeps its routing settings (they are replaced
    on their own: `put_node_routing`)."""
    async with uow:
        created = await uow.repo.put_node(node)
        saved = await uow.repo.get_node(node.code)
        uow.emit(_node_event(saved or node), key=node.code)
    log.info("node created" if created else "node replaced", node_code=node.code, active=node.active)
    return created


async def deactivate_node(uow: Uow, code: str) -> Node:
    async with uow:
        node = await uow.repo.get_node(code, lock=True)
        if node is None:
            raise NotFound(f"node {code} does not exist")
        node = replace(node, active=False)
        await uow.repo.put_node(node)
        uow.emit(_node_event(node), key=node.code)
    log.info("node deactivated", node_code=code)
    return node


async def put_node_routing(uow: Uow, code: str, routing: NodeRouting) -> Node:
    """Replace a node's routing settings (hours, holidays, capacity, radius, band, pools, high value): the
    next batch sourcing reads them, no restart."""
    async with uow:
        node = await uow.repo.get_node(code, lock=True)
        if node is None:
            raise NotFound(f"node {code} does not exist")
        node = replace(node, routing=routing)
        await uow.repo.put_node_routing(code, routing)
        uow.emit(_node_event(node), key=node.code)
    log.info("node routing settings replaced", node_code=code)
    return node


async def node_state(uow: Uow, code: str) -> tuple[Node, NodeLoad, str | None, str | None]:
    """A node now: its load (open tasks, orders today), and why it is closed or full (None: it is not)."""
    async with uow:
        node = await uow.repo.get_node(code)
        if node is None:
            raise NotFound(f"node {code} does not exist")
        view = await uow.repo.load_view((), [code]) if node.active else None
    now = utcnow()
    load = view.load.get(code, NodeLoad()) if view is not None else NodeLoad()
    return node, load, node.routing.hours.closed_why(now), full_why(node.routing, load)


async def get_node(uow: Uow, code: str) -> Node:
    async with uow:
        node = await uow.repo.get_node(code)
    if node is None:
        raise NotFound(f"node {code} does not exist")
    return node


async def list_nodes(
    uow: Uow, *, type: NodeType | None, active: bool | None, limit: int, offset: int
) -> tuple[list[Node], int]:
    async with uow:
        return await uow.repo.list_nodes(
            type=type.value if type else None, active=active, limit=limit, offset=offset
        )
