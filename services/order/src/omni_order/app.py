"""Wiring: settings, consumers, routes, and the repository every unit of work carries."""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import Field, SecretStr

from omni_chassis.app import create_app, serve
from omni_chassis.settings import ServiceSettings

from . import (
    api,
    api_aftersales,
    api_backorders,
    api_credit,
    api_review,
    api_rules,
    consumers,
    service,
    store,
)
from .domain.backorder import DEFAULT_MAX_AGE_S, BackorderPolicy, OnOverdue
from .domain.buyer_data import BuyerDataError, parse_key_ring
from .service import records


class Settings(ServiceSettings):
    service_name: str = "order"
    http_port: int = 8003
    # backorders (docs/backorders.md): how long one may wait for stock, then hold it or cancel it
    backorder_max_age_s: int = Field(DEFAULT_MAX_AGE_S, gt=0, alias="OMNI_BACKORDER_MAX_AGE_S")
    backorder_on_overdue: OnOverdue = Field(OnOverdue.HOLD, alias="OMNI_BACKORDER_ON_OVERDUE")
    # the receiver's name, phone and address at rest (docs/buyer-data.md): kid:base64key[,older kid:key...],
    # the first encrypts. No default: build() refuses to start without a well-formed key ring.
    buyer_data_keys: SecretStr = Field(SecretStr(""), alias="ORDER_BUYER_DATA_KEYS")

    @classmethod
    def env_names(cls) -> set[str]:
        return super().env_names() | {
            "OMNI_BACKORDER_MAX_AGE_S",
            "OMNI_BACKORDER_ON_OVERDUE",
            "ORDER_BUYER_DATA_KEYS",
        }


def build(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    # a missing or malformed key ring stops the service here (BuyerDataError), never plain storage
    records.use_buyer_keys(parse_key_ring(settings.buyer_data_keys.get_secret_value()))
    service.configure_defaults(BackorderPolicy(settings.backorder_max_age_s, settings.backorder_on_overdue))
    return create_app(
        settings,
        title="Omni order (OMS)",
        routers=[
            api.router,
            api.catalog_router,
            api.buyer_data_router,
            api_review.router,
            api_review.actions_router,
            api_rules.router,
            api_backorders.router,
            api_aftersales.router,
            api_credit.router,
        ],
        consumers=consumers.specs(),
        repository=store.Repository,
        timers={service.OVERDUE_TIMER: service.on_overdue, **service.PRESALE_TIMERS, **service.MERGE_TIMERS},
    )


def main() -> None:
    settings = Settings()
    try:
        app = build(settings)
    except BuyerDataError as exc:
        raise SystemExit(f"order service not started: {exc}") from None
    serve(app, settings)
