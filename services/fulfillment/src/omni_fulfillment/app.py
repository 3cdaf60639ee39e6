"""Wiring: settings, consumers, routes."""

from __future__ import annotations

from fastapi import FastAPI
from pydantic import AliasChoices, Field

from omni_chassis.app import create_app, serve

from . import (
    api,
    api_carriers,
    api_routing,
    api_task_config,
    api_tasks,
    consumers,
    service,
    store_carriers,
)
from .service import task_config, task_timers
from .settings_tasks import TaskSettings


class Settings(TaskSettings):  # store tasks' settings: settings_tasks.py
    service_name: str = "fulfillment"
    http_port: int = 8004
    sourcing_max_attempts: int = Field(
        service.DEFAULT_MAX_ATTEMPTS,
        ge=1,
        validation_alias=AliasChoices("sourcing_max_attempts", "FULFILLMENT_SOURCING_MAX_ATTEMPTS"),
        description="sourcing attempts per order (the first plan and each re-plan after a refusal)",
    )

    @classmethod
    def env_names(cls) -> set[str]:
        return super().env_names() | {"FULFILLMENT_SOURCING_MAX_ATTEMPTS"}


def build(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    task_config.configure(settings.task_config())
    return create_app(
        settings,
        title="Omni fulfillment",
        routers=[
            api.router,
            api_tasks.router,
            api_task_config.router,
            api_carriers.router,
            api_routing.router,
        ],
        consumers=consumers.specs(max_attempts=settings.sourcing_max_attempts),
        repository=store_carriers.Repository,  # store.Repository with carrier routing's queries
        timers=task_timers.HANDLERS,  # the SLAs of store tasks
    )


def main() -> None:
    settings = Settings()
    serve(build(settings), settings)
