"""Wiring: settings, consumers, routes, and the repository every unit of work carries."""

from __future__ import annotations

from fastapi import FastAPI

from omni_chassis.app import create_app, serve
from omni_chassis.settings import ServiceSettings

from . import api, consumers, store


class Settings(ServiceSettings):
    service_name: str = "order"
    http_port: int = 8003


def build(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_app(
        settings,
        title="Omni order (OMS)",
        routers=[api.router, api.catalog_router],
        consumers=consumers.specs(),
        repository=store.Repository,
    )


def main() -> None:
    settings = Settings()
    serve(build(settings), settings)
