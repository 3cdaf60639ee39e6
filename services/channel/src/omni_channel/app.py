"""Wiring: settings, consumers, routes."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from omni_chassis.app import create_app, serve
from omni_chassis.settings import ServiceSettings

from . import api, consumers


class Settings(ServiceSettings):
    service_name: str = "channel"
    http_port: int = 8006


async def _validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's 422, minus the echoed input: a shop's secret must never come back (or reach a proxy log)."""
    detail = [
        {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
        for e in exc.errors()
    ]
    return JSONResponse({"detail": detail}, 422)


def build(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    app = create_app(
        settings, title="Omni channel adapters", routers=[api.router], consumers=consumers.specs()
    )
    app.add_exception_handler(RequestValidationError, _validation_error)
    return app


def main() -> None:
    settings = Settings()
    serve(build(settings), settings)
