"""Wiring: settings, consumers, routes."""

from __future__ import annotations

from fastapi import FastAPI

from omni_chassis.app import create_app, serve
from omni_chassis.settings import ServiceSettings

from . import api, consumers


class Settings(ServiceSettings):
    service_name: str = "inventory"
    http_port: int = 8002


def build(settings: Settings | None = None, *, with_consumers: bool = True) -> FastAPI:
    """The inventory app. `with_consumers=False` serves the API (and the outbox relay) without joining the
    consumer group on the shared topics: what API tests want."""
    settings = settings or Settings()

    return create_app(
        settings,
        title="Omni inventory (IVM)",
        routers=[api.router],
        consumers=consumers.specs() if with_consumers else [],
    )


def main() -> None:
    settings = Settings()
    serve(build(settings), settings)
