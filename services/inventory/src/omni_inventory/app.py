"""Wiring: settings, consumers, routes."""

from __future__ import annotations

from fastapi import FastAPI

from omni_chassis.app import create_app, serve
from omni_chassis.kafka import create_topics
from omni_chassis.settings import ServiceSettings
from omni_contracts import dlq_topic

from . import api, consumers


class Settings(ServiceSettings):
    service_name: str = "inventory"
    http_port: int = 8002


def build(settings: Settings | None = None, *, with_consumers: bool = True) -> FastAPI:
    """The inventory app. `with_consumers=False` serves the API (and the outbox relay) without joining the
    consumer group on the shared topics: what API tests want."""
    settings = settings or Settings()

    async def ensure_dead_letter_topic(app: FastAPI) -> None:
        # Our two specs share the group "inventory", so the chassis asks Kafka to create the same DLQ topic
        # twice in one request, which Kafka rejects without an error reaching us: create it ourselves.
        await create_topics(
            settings.kafka_bootstrap_servers, [dlq_topic(settings.consumer_group_prefix + consumers.GROUP)]
        )

    return create_app(
        settings,
        title="Omni inventory (IVM)",
        routers=[api.router],
        consumers=consumers.specs() if with_consumers else [],
        on_startup=[ensure_dead_letter_topic] if with_consumers else [],
    )


def main() -> None:
    settings = Settings()
    serve(build(settings), settings)
