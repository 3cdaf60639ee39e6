"""Store tasks' use cases, called as a route calls them (service/task_flow.py), for the unit tests."""

from __future__ import annotations

from typing import Any

from omni_fulfillment.service import task_flow
from omni_fulfillment.service.task_flow import Acted, Ask


async def do(
    uow: Any,
    task_id: str,
    step: task_flow.Step,
    action: str = "step",
    *,
    scope: str | None = None,
    action_id: str | None = None,
    body: dict[str, Any] | None = None,
    actor: str | None = None,
) -> Acted:
    return await task_flow.act(uow, Ask(task_id, scope, actor, action_id), action, body or {}, step)


async def ready(uow: Any, task_id: str, scope: str | None = None) -> Acted:
    return await do(uow, task_id, task_flow.finish(False, None), "ready", scope=scope)


async def pack(uow: Any, task_id: str, scope: str | None = None, shortage: bool = False) -> Acted:
    return await do(uow, task_id, task_flow.finish(shortage, None), "pack", scope=scope)
