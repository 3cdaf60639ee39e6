"""Wiring: settings, consumers, routes."""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import AliasChoices, Field

from omni_chassis.app import create_app, serve
from omni_chassis.settings import ServiceSettings

from . import (
    api,
    api_freezes,
    api_holds,
    api_listings,
    api_physical,
    api_rules,
    api_store_sales,
    api_transfers,
    consumers,
    store,
)
from .service import holds


class Settings(ServiceSettings):
    service_name: str = "inventory"
    http_port: int = 8002
    # the bounds of POST /reservations' ttl_seconds (an unpaid own-mall reservation's time-to-live)
    reservation_ttl_min_s: int = Field(
        api_holds.TTL_MIN_S,
        ge=1,
        validation_alias=AliasChoices("reservation_ttl_min_s", "INVENTORY_RESERVATION_TTL_MIN_S"),
    )
    reservation_ttl_max_s: int = Field(
        api_holds.TTL_MAX_S,
        ge=1,
        validation_alias=AliasChoices("reservation_ttl_max_s", "INVENTORY_RESERVATION_TTL_MAX_S"),
    )

    @classmethod
    def env_names(cls) -> set[str]:
        return super().env_names() | {"INVENTORY_RESERVATION_TTL_MIN_S", "INVENTORY_RESERVATION_TTL_MAX_S"}


def build(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    holds_router = api_holds.make_router(settings.reservation_ttl_min_s, settings.reservation_ttl_max_s)
    return create_app(
        settings,
        title="Omni inventory (IVM)",
        routers=[
            api.router,
            api_freezes.router,
            api_rules.router,
            api_listings.router,
            holds_router,
            api_physical.router,
            api_transfers.router,
            api_store_sales.router,
        ],
        consumers=consumers.specs(),
        repository=store.Repository,
        timers={holds.EXPIRY: holds.on_expiry},
    )


def main() -> None:
    settings = Settings()
    serve(build(settings), settings)
