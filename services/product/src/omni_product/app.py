"""Wiring: settings, consumers, routes."""

from __future__ import annotations

from fastapi import FastAPI

from omni_chassis.app import create_app, serve
from omni_chassis.settings import ServiceSettings

from . import api, api_materials, consumers, store


class Settings(ServiceSettings):
    service_name: str = "product"
    http_port: int = 8001


def build(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_app(
        settings,
        title="Omni product (PIM)",
        routers=[api_materials.router, api.router],
        consumers=consumers.specs(),
        repository=store.Repository,
    )


def main() -> None:
    settings = Settings()
    serve(build(settings), settings)
