"""Wiring: settings, consumers, routes."""

from __future__ import annotations

from fastapi import FastAPI

from omni_chassis.app import create_app, serve
from omni_chassis.settings import ServiceSettings

from . import api, consumers, store
from .domain.errors import InvalidTrade, MalformedPayload, Unauthorized


class Settings(ServiceSettings):
    service_name: str = "channel"
    http_port: int = 8006


def build(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    # the chassis's 422 problem never echoes the input: a shop's secret never comes back
    return create_app(
        settings,
        title="Omni channel adapters",
        routers=[api.router],
        consumers=consumers.specs(),
        repository=store.Repository,
        # webhook deliveries share transactions; these errors are raised before anything is written
        group_commits={"webhooks": (Unauthorized, MalformedPayload, InvalidTrade)},
    )


def main() -> None:
    settings = Settings()
    serve(build(settings), settings)
