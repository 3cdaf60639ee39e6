"""Wiring: settings, the shared HTTP client, routes. `python -m omni_gateway` runs it.

Environment (besides the chassis's `GATEWAY_HTTP_PORT`, `LOG_LEVEL`, `OTEL_TRACES_FILE`, ...):
- `GATEWAY_<SERVICE>_URL`: each upstream's base URL (default `http://127.0.0.1:<port>`);
- `GATEWAY_API_KEYS_FILE` (a JSON file) and/or `GATEWAY_API_KEYS` (JSON text): the API keys, as
  `[{"name", "key_sha256", "role", "node_code"?}]`. With neither, every `/api` request gets 401.
  `services/gateway/dev-api-keys.json` holds demo keys for local use only;
- `GATEWAY_RATE_PER_S` / `GATEWAY_RATE_BURST`: token bucket per API key;
  `GATEWAY_WEBHOOK_RATE_PER_S` / `GATEWAY_WEBHOOK_RATE_BURST`: per webhook shop (`shop_id` query parameter);
- `GATEWAY_CONNECT_TIMEOUT_S` (2), `GATEWAY_READ_TIMEOUT_S` (30), `GATEWAY_OPENAPI_CACHE_S` (30),
  `GATEWAY_MAX_BODY_BYTES` (10 MiB), `GATEWAY_MAX_CONNECTIONS` (500).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import Field
from pydantic_settings import SettingsConfigDict

from omni_chassis.app import create_app, serve
from omni_chassis.logging import get_logger
from omni_chassis.settings import ServiceSettings

from . import api
from .domain.keys import ApiKey, KeyConfigError, KeyRing, parse_keys_json
from .domain.permissions import SERVICES
from .domain.ratelimit import TokenBuckets
from .service import Gateway

log = get_logger(__name__)


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(extra="ignore", env_file=None, populate_by_name=True)

    service_name: str = "gateway"
    http_port: int = 8000

    product_url: str = Field("http://127.0.0.1:8001", alias="GATEWAY_PRODUCT_URL")
    inventory_url: str = Field("http://127.0.0.1:8002", alias="GATEWAY_INVENTORY_URL")
    order_url: str = Field("http://127.0.0.1:8003", alias="GATEWAY_ORDER_URL")
    fulfillment_url: str = Field("http://127.0.0.1:8004", alias="GATEWAY_FULFILLMENT_URL")
    finance_url: str = Field("http://127.0.0.1:8005", alias="GATEWAY_FINANCE_URL")
    channel_url: str = Field("http://127.0.0.1:8006", alias="GATEWAY_CHANNEL_URL")

    api_keys_file: str | None = Field(None, alias="GATEWAY_API_KEYS_FILE")
    api_keys: str | None = Field(None, alias="GATEWAY_API_KEYS")

    rate_per_s: float = Field(2000.0, alias="GATEWAY_RATE_PER_S", gt=0)
    rate_burst: int = Field(4000, alias="GATEWAY_RATE_BURST", ge=1)
    webhook_rate_per_s: float = Field(2000.0, alias="GATEWAY_WEBHOOK_RATE_PER_S", gt=0)
    webhook_rate_burst: int = Field(4000, alias="GATEWAY_WEBHOOK_RATE_BURST", ge=1)

    connect_timeout_s: float = Field(2.0, alias="GATEWAY_CONNECT_TIMEOUT_S", gt=0)
    read_timeout_s: float = Field(30.0, alias="GATEWAY_READ_TIMEOUT_S", gt=0)
    openapi_cache_s: float = Field(30.0, alias="GATEWAY_OPENAPI_CACHE_S", ge=0)
    max_body_bytes: int = Field(10 * 1024 * 1024, alias="GATEWAY_MAX_BODY_BYTES", ge=1)
    max_connections: int = Field(500, alias="GATEWAY_MAX_CONNECTIONS", ge=1)

    def upstreams(self) -> dict[str, str]:
        return {s: getattr(self, f"{s}_url") for s in SERVICES}

    @classmethod
    def env_names(cls) -> set[str]:
        own = {f.alias for f in cls.model_fields.values() if f.alias and f.alias.startswith("GATEWAY_")}
        return super().env_names() | own


def load_keys(settings: Settings) -> KeyRing:
    """The API keys from the file and/or the env variable (a malformed entry stops the gateway)."""
    keys: list[ApiKey] = []
    if settings.api_keys_file:
        path = Path(settings.api_keys_file)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise KeyConfigError(f"GATEWAY_API_KEYS_FILE {path}: cannot read it: {exc}") from exc
        keys += parse_keys_json(text, str(path))
    if settings.api_keys:
        keys += parse_keys_json(settings.api_keys, "GATEWAY_API_KEYS")
    return KeyRing(keys)


def upstream_session(settings: Settings) -> aiohttp.ClientSession:
    """The one client session for every upstream call: a pool of at most GATEWAY_MAX_CONNECTIONS."""
    connector = aiohttp.TCPConnector(
        limit=settings.max_connections,
        limit_per_host=0,
        # Idle upstream connections are dropped well before the services' keep-alive timeout (chassis
        # serve: 75 s), so a request never lands on a connection the server is closing.
        keepalive_timeout=20.0,
        ttl_dns_cache=300,
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(
            total=None, sock_connect=settings.connect_timeout_s, sock_read=settings.read_timeout_s
        ),
        auto_decompress=False,  # what the client gets is what the upstream sent
        skip_auto_headers=("User-Agent",),
        trust_env=False,
    )


def build(settings: Settings | None = None) -> FastAPI:
    """The gateway app."""
    settings = settings or Settings()
    keyring = load_keys(settings)
    app = create_app(settings, title="Omni API gateway", routers=[api.router], stateless=True)
    # create_app's FastAPI registers its own /openapi.json, /docs and /redoc first (plain Starlette routes,
    # which would shadow ours) and offers no openapi_url=None: drop them; the gateway serves the merged one.
    app.openapi_url = app.docs_url = app.redoc_url = None
    builtin = {"/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
    app.router.routes[:] = [
        r for r in app.router.routes if isinstance(r, APIRoute) or getattr(r, "path", None) not in builtin
    ]
    chassis_lifespan = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # The chassis's stateless lifespan has startup hooks but no shutdown hook: wrap it, so the one
        # shared client is opened after logging/tracing are set up and closed at shutdown.
        async with chassis_lifespan(app):
            client = upstream_session(settings)
            app.state.gateway = Gateway(
                upstreams=settings.upstreams(),
                keyring=keyring,
                client=client,
                api_limiter=TokenBuckets(settings.rate_per_s, settings.rate_burst),
                webhook_limiter=TokenBuckets(settings.webhook_rate_per_s, settings.webhook_rate_burst),
                openapi_ttl_s=settings.openapi_cache_s,
                max_body_bytes=settings.max_body_bytes,
            )
            if not len(keyring):
                log.warning("no API keys configured: every /api request will be refused (401)")
            log.info("gateway ready", api_keys=len(keyring), upstreams=settings.upstreams())
            try:
                yield
            finally:
                await client.close()

    app.router.lifespan_context = lifespan
    return app


def main() -> None:
    settings = Settings()
    serve(build(settings), settings)
