"""Kafka subscribers: thin. The chassis decodes, dedupes and commits; these call the service."""

from __future__ import annotations

from omni_chassis.consumer import ConsumerSpec


def specs() -> list[ConsumerSpec]:
    return []
