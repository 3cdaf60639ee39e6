"""Wiring: settings, consumers, routes, the repository every unit of work carries."""

from __future__ import annotations

from fastapi import FastAPI

from omni_chassis.app import create_app, serve
from omni_chassis.settings import ServiceSettings

from . import api, consumers, store


class Settings(ServiceSettings):
    service_name: str = "finance"
    http_port: int = 8005


def build(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_app(
        settings,
        title="Omni finance (FIN)",
        routers=[api.router],
        consumers=consumers.specs(),
        repository=store.Repository,
    )


def main() -> None:
    settings = Settings()
    serve(build(settings), settings)
