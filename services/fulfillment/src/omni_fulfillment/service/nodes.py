"""Nodes (warehouses and stores): created, replaced, deactivated; each change published."""

from __future__ import annotations

from omni_chassis.logging import get_logger
from omni_contracts.events.fulfillment import NodeUpsertedV1

from ..domain.errors import Conflict, NotFound
from ..domain.nodes import Node, NodeType
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
    )


async def create_node(uow: Uow, node: Node) -> Node:
    async with uow:
        if not await uow.repo.insert_node(node):
            raise Conflict(f"node {node.code} already exists (PUT /nodes/{node.code} replaces it)")
        uow.emit(_node_event(node), key=node.code)
    log.info("node created", node_code=node.code, type=node.type.value)
    return node


async def put_node(uow: Uow, node: Node) -> bool:
    """Create or replace; True when created."""
    async with uow:
        created = await uow.repo.put_node(node)
        uow.emit(_node_event(node), key=node.code)
    log.info("node created" if created else "node replaced", node_code=node.code, active=node.active)
    return created


async def deactivate_node(uow: Uow, code: str) -> Node:
    async with uow:
        node = await uow.repo.get_node(code, lock=True)
        if node is None:
            raise NotFound(f"node {code} does not exist")
        node = Node(
            node.code, node.name, node.type, node.city, node.lat, node.lng, node.priority, active=False
        )
        await uow.repo.put_node(node)
        uow.emit(_node_event(node), key=node.code)
    log.info("node deactivated", node_code=code)
    return node


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
