"""Nodes: the warehouses and stores goods ship from (or are collected at)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class NodeType(StrEnum):
    WAREHOUSE = "warehouse"
    STORE = "store"


@dataclass(frozen=True)
class Node:
    code: str
    name: str
    type: NodeType
    city: str
    lat: float
    lng: float
    priority: int
    active: bool = True

    def __post_init__(self) -> None:
        if not -90 <= self.lat <= 90:
            raise ValueError(f"latitude {self.lat} is outside -90..90")
        if not -180 <= self.lng <= 180:
            raise ValueError(f"longitude {self.lng} is outside -180..180")
