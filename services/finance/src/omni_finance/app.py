"""Wiring: settings, consumers, routes."""

from __future__ import annotations

from fastapi import FastAPI

from omni_chassis.app import create_app, serve
from omni_chassis.settings import ServiceSettings

from . import api, consumers


class Settings(ServiceSettings):
    service_name: str = "finance"
    http_port: int = 8005
    # A shipment can arrive before its order.accepted (different topics): give the order consumer time to
    # book it. 8 attempts, backoff 0.1 s doubling: about 13 s before a shipment goes to the DLQ
    # (then `omni dlq replay finance-shipments`). Override with CONSUMER_MAX_ATTEMPTS / CONSUMER_BACKOFF_S.
    consumer_max_attempts: int = 8
    consumer_backoff_s: float = 0.1


def build(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    return create_app(settings, title="Omni finance (FIN)", routers=[api.router], consumers=consumers.specs())


def main() -> None:
    settings = Settings()
    serve(build(settings), settings)
