"""What the use cases share: the unit of work they take, and the sourcing budget."""

from __future__ import annotations

from collections.abc import Sequence

from omni_chassis.uow import UnitOfWork
from omni_contracts.events.common import MaterialQty

from ..domain.sourcing import Line
from ..store import Repository

Uow = UnitOfWork[Repository]

DEFAULT_MAX_ATTEMPTS = 3


def mq(lines: Sequence[Line]) -> list[MaterialQty]:
    return [MaterialQty(material_code=x.material_code, qty=x.qty) for x in lines]
