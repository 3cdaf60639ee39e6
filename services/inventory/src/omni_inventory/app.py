"""Wiring: settings, consumers, routes."""

from __future__ import annotations

from fastapi import FastAPI

from omni_chassis.app import create_app, serve
from omni_chassis.settings import ServiceSettings

from . import api, api_freezes, api_listings, api_rules, consumers, store


class Settings(ServiceSettings):
    service_name: str = "inventory"
    http_port: int = 8002


def build(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_app(
        settings,
        title="Omni inventory (IVM)",
        routers=[api.router, api_freezes.router, api_rules.router, api_listings.router],
        consumers=consumers.specs(),
        repository=store.Repository,
    )


def main() -> None:
    settings = Settings()
    serve(build(settings), settings)
