"""Wiring: settings, consumers, routes."""

from __future__ import annotations

from fastapi import FastAPI

from omni_chassis.app import create_app, serve
from omni_chassis.settings import ServiceSettings

from . import api, consumers, store


class Settings(ServiceSettings):
    service_name: str = "product"
    http_port: int = 8001


def build(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_app(
        settings,
        title="Omni product (PIM)",
        routers=[api.router],
        consumers=consumers.specs(),
        repository=store.Repository,
    )


def main() -> None:
    settings = Settings()
    serve(build(settings), settings)
