"""App factory: FastAPI and FastStream in one process, with health, readiness and metrics.

    app = create_app(Settings(), routers=[api.router], consumers=[ConsumerSpec(...)])

The lifespan starts, in order: logging and tracing, the database, the producer, the outbox relay, the
consumers (their DLQ topics are created when missing), and stops them in reverse.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import structlog
import uvicorn
from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry.trace import SpanKind
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from omni_contracts import dlq_topic

from .consumer import ConsumerRuntime, ConsumerSpec
from .context import correlation_id_var, set_service_name
from .db import Database
from .dlq import DeadLetters
from .errors import install_problem_handlers
from .kafka import create_topics, make_broker, make_producer
from .logging import configure_logging, get_logger
from .outbox import OutboxRelay
from .settings import ServiceSettings
from .tracing import extract_context, setup_tracing, tracer

log = get_logger("omni.app")

CORRELATION_HEADER = "X-Correlation-ID"
Hook = Callable[[FastAPI], Awaitable[None]]


def create_app(
    settings: ServiceSettings,
    *,
    title: str,
    routers: Sequence[APIRouter] = (),
    consumers: Sequence[ConsumerSpec] = (),
    on_startup: Sequence[Hook] = (),
    relay: bool = True,
    stateless: bool = False,
) -> FastAPI:
    """`stateless=True` (the gateway): no database, no Kafka; logs, tracing, health and metrics only."""
    name = settings.service_name

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(name, settings.log_level, settings.log_json)
        setup_tracing(name, settings.otel_traces_file)
        set_service_name(name)
        app.state.settings = settings
        if stateless:
            app.state.db = app.state.broker = app.state.relay = None
            for hook in on_startup:
                await hook(app)
            log.info("service started", http_port=settings.http_port)
            yield
            log.info("service stopped")
            return
        db = Database(settings.db_url)
        producer = make_producer(settings.kafka_bootstrap_servers, f"omni-{name}")
        await producer.start()
        tasks: list[asyncio.Task[Any]] = []
        outbox_relay = OutboxRelay(
            db.dsn,
            producer,
            name=name,
            batch_size=settings.outbox_batch_size,
            topic_prefix=settings.topic_prefix,
        )
        if relay:
            tasks.append(asyncio.create_task(outbox_relay.run(), name=f"{name}-outbox-relay"))
        broker = make_broker(settings.kafka_bootstrap_servers, f"omni-{name}")
        runtime = ConsumerRuntime(
            db,
            DeadLetters(producer),
            max_attempts=settings.consumer_max_attempts,
            backoff_s=settings.consumer_backoff_s,
        )
        specs = [
            dataclasses.replace(
                s,
                group=settings.consumer_group_prefix + s.group,
                topics=[settings.topic_prefix + t for t in s.topics],
            )
            for s in (consumers if settings.consumers_enabled else ())
        ]
        for spec in specs:
            runtime.register(broker, spec)
        if specs:
            await create_topics(settings.kafka_bootstrap_servers, [dlq_topic(s.group) for s in specs])
        await broker.start()
        tasks.append(asyncio.create_task(_lag_loop(runtime), name=f"{name}-lag"))
        app.state.settings = settings
        app.state.db = db
        app.state.producer = producer
        app.state.broker = broker
        app.state.runtime = runtime
        app.state.relay = outbox_relay
        for hook in on_startup:
            await hook(app)
        log.info("service started", http_port=settings.http_port, consumers=[s.group for s in specs])
        try:
            yield
        finally:
            outbox_relay.stop()
            await broker.stop()
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await t
            await producer.stop()
            await db.dispose()
            log.info("service stopped")

    app = FastAPI(title=title, version="0.1.0", lifespan=lifespan)
    install_problem_handlers(app)
    app.add_middleware(CorrelationMiddleware)
    app.include_router(_ops_router())
    for r in routers:
        app.include_router(r)
    return app


async def _lag_loop(runtime: ConsumerRuntime) -> None:
    while True:
        await asyncio.sleep(5)
        with contextlib.suppress(Exception):
            await runtime.update_lag()


class CorrelationMiddleware:
    """Pure ASGI (no per-request task or stream copy, unlike BaseHTTPMiddleware): binds the request's
    `X-Correlation-ID` (made up when missing) to logs and emitted events, opens the server span that
    continues the caller's trace, and returns the id on the response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        corr = headers.get(CORRELATION_HEADER.lower()) or str(uuid.uuid4())
        status: dict[str, int] = {}

        async def send_with_id(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                kept = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"x-correlation-id"]
                message = {**message, "headers": [*kept, (b"x-correlation-id", corr.encode())]}
            await send(message)

        token = correlation_id_var.set(corr)
        structlog.contextvars.bind_contextvars(correlation_id=corr)
        path = scope.get("path", "")
        try:
            if path.startswith(("/health", "/metrics")):
                await self.app(scope, receive, send_with_id)
                return
            with tracer().start_as_current_span(
                f"{scope.get('method', 'GET')} {path}", context=extract_context(headers), kind=SpanKind.SERVER
            ) as span:
                span.set_attribute("http.method", scope.get("method", ""))
                span.set_attribute("omni.correlation_id", corr)
                await self.app(scope, receive, send_with_id)
                span.set_attribute("http.status_code", status.get("code", 0))
        finally:
            correlation_id_var.reset(token)
            structlog.contextvars.unbind_contextvars("correlation_id")


def _ops_router() -> APIRouter:
    r = APIRouter(tags=["operations"])

    @r.get("/health/live")
    async def live() -> dict[str, str]:
        return {"status": "ok"}

    @r.get("/health/ready")
    async def ready(request: Request) -> JSONResponse:
        checks: dict[str, str] = {}
        if request.app.state.db is None:
            return JSONResponse({"status": "ok", "checks": checks})
        db: Database = request.app.state.db
        try:
            await asyncio.wait_for(db.ping(), 2)
            checks["database"] = "ok"
        except Exception as exc:
            checks["database"] = f"unavailable: {type(exc).__name__}: {exc}"[:300]
        try:
            ok = await request.app.state.broker.ping(timeout=2)
            checks["kafka"] = "ok" if ok else "unavailable: no answer from the bootstrap servers"
        except Exception as exc:
            checks["kafka"] = f"unavailable: {type(exc).__name__}: {exc}"[:300]
        relay: OutboxRelay = request.app.state.relay
        checks["outbox_relay"] = "active" if relay.active else "standby"
        healthy = checks["database"] == "ok" and checks["kafka"] == "ok"
        return JSONResponse(
            {"status": "ok" if healthy else "unavailable", "checks": checks}, 200 if healthy else 503
        )

    @r.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return r


def serve(app: FastAPI, settings: ServiceSettings) -> None:
    """Run one service with uvicorn (its own process)."""
    uvicorn.run(
        app,
        host=settings.http_host,
        port=settings.http_port,
        log_level="warning",
        access_log=False,
        # longer than any client's idle keep-alive (the gateway drops idle connections after 20 s): a server
        # closing an idle connection while a client reuses it is a spurious 502
        timeout_keep_alive=75,
    )
