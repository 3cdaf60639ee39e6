"""App factory: FastAPI and FastStream in one process, with health, readiness and metrics.

    app = create_app(Settings(), routers=[api.router], consumers=[ConsumerSpec(...)])

The lifespan starts, in order: logging and tracing, the database, the producer, the outbox relay, the
consumers (their DLQ topics are created when missing), the timer loop (when `timers` has handlers), and stops
them in reverse.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, Any

import structlog
import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from opentelemetry.trace import SpanKind
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from omni_contracts import dlq_topic

from . import outbox
from .consumer import ConsumerRuntime, ConsumerSpec
from .context import correlation_id_var, set_service_name
from .db import Database
from .dlq import DeadLetters
from .errors import install_problem_handlers
from .groupcommit import GroupCommit
from .kafka import create_topics, make_broker, make_producer
from .logging import configure_logging, get_logger
from .outbox import OutboxRelay
from .parking import ParkingLoop
from .settings import ServiceSettings
from .supervise import Supervisor
from .timers import TimerHandler, TimerLoop
from .tracing import extract_context, setup_tracing, tracer
from .uow import SqlUnitOfWork, UnitOfWork

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
    repository: Callable[[Any], Any] | None = None,
    group_commits: Mapping[str, tuple[type[BaseException], ...]] | None = None,
    timers: Mapping[str, TimerHandler] | None = None,
) -> FastAPI:
    """`stateless=True` (the gateway): no database, no Kafka; logs, tracing, health and metrics only.

    `group_commits` names the request groups whose concurrent requests share one transaction (see
    groupcommit.py), each with the exception types its works raise before writing; a route reaches one with
    the `GroupCommitOf(name)` dependency.

    `repository(session)` builds the service's repository; every unit of work (`app.state.uow()`, the `Uow`
    dependency of routes, and consumers' handlers) carries one as `uow.repo`.

    `timers` maps a timer kind to its handler, `async def handler(uow, key, payload)`, run by a supervised
    timer loop in a unit of work of this app (see timers.py); any unit of work can schedule and cancel timers.
    """
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
        outbox.configure(settings.max_event_bytes)
        db = Database(settings.db_url)
        producer = make_producer(settings.kafka_bootstrap_servers, f"omni-{name}")
        await producer.start()
        supervisor = Supervisor()

        def relay_producer() -> Any:
            return make_producer(settings.kafka_bootstrap_servers, f"omni-{name}-relay")

        relay_prod = relay_producer()
        await relay_prod.start()
        outbox_relay = OutboxRelay(
            db.dsn,
            relay_prod,
            name=name,
            batch_size=settings.outbox_batch_size,
            topic_prefix=settings.topic_prefix,
            producer_factory=relay_producer,
        )
        if relay:
            supervisor.start("outbox-relay", outbox_relay.run)
        broker = make_broker(settings.kafka_bootstrap_servers, f"omni-{name}")
        timer_loop: TimerLoop | None = None

        def wake_timers(due_at: Any) -> None:
            if timer_loop is not None:
                timer_loop.wake(due_at)

        def sql_uow() -> SqlUnitOfWork[Any]:
            uow = SqlUnitOfWork(db, repository)
            uow.on_timer = wake_timers
            return uow

        runtime = ConsumerRuntime(
            db,
            DeadLetters(producer),
            max_attempts=settings.consumer_max_attempts,
            backoff_s=settings.consumer_backoff_s,
            transient_backoff_max_s=settings.consumer_transient_backoff_max_s,
            uow_factory=sql_uow,
            fetch_max_wait_ms=settings.fetch_max_wait_ms,
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
        parking = ParkingLoop(runtime, max_age_s=settings.park_max_age_s)
        await broker.start()
        supervisor.start("lag", lambda: _lag_loop(runtime))
        if specs:
            supervisor.start("parking", parking.run)

        def new_uow() -> SqlUnitOfWork[Any]:
            uow = sql_uow()
            uow.on_released = parking.wake
            return uow

        if timers and settings.timers_enabled:
            timer_loop = TimerLoop(db, new_uow, timers, max_sleep_s=settings.timer_max_sleep_s)
            supervisor.start("timers", timer_loop.run)

        app.state.uow = new_uow
        app.state.group_commit = {
            g: GroupCommit(new_uow, name=g, clean=clean) for g, clean in (group_commits or {}).items()
        }
        app.state.supervisor = supervisor
        app.state.parking = parking
        app.state.timers = timer_loop
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
            for group in app.state.group_commit.values():
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(group.close(), 10)
            outbox_relay.stop()
            await broker.stop()
            await supervisor.stop()
            with contextlib.suppress(Exception):
                await outbox_relay.producer.stop()
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


def _uow(request: Request) -> UnitOfWork[Any]:
    """A fresh unit of work for one request: the use case opens it (`async with uow:`), never the route."""
    return request.app.state.uow()


Uow = Annotated[UnitOfWork[Any], Depends(_uow)]


def GroupCommitOf(name: str) -> Any:
    """A route dependency: the app's group commit `name` (declared in `create_app(group_commits=...)`)."""

    def dep(request: Request) -> GroupCommit:
        return request.app.state.group_commit[name]

    return Annotated[GroupCommit, Depends(dep)]


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
        healthy = checks["database"] == "ok" and checks["kafka"] == "ok"
        relay: OutboxRelay = request.app.state.relay
        settings: ServiceSettings = request.app.state.settings
        supervisor: Supervisor = request.app.state.supervisor
        down = supervisor.down()
        relay_ok, relay_state = relay.health()
        if "outbox-relay" in supervisor.tasks and "outbox-relay" in down:
            relay_ok, relay_state = False, f"down: {supervisor.tasks['outbox-relay'].last_error}"
        if relay_ok and checks["database"] == "ok":
            with contextlib.suppress(Exception):
                age = await asyncio.wait_for(_oldest_unsent(request.app.state.db), 2)
                if age > settings.outbox_max_age_s:
                    relay_ok = False
                    relay_state = (
                        f"behind: the oldest unsent event is {age:.0f} s old "
                        f"(bound {settings.outbox_max_age_s:.0f} s)"
                    )
        checks["outbox_relay"] = relay_state
        healthy = healthy and relay_ok
        for task in down:
            if task != "outbox-relay":
                checks[f"task:{task}"] = f"down: {supervisor.tasks[task].last_error}"
                healthy = False
        runtime: ConsumerRuntime = request.app.state.runtime
        degraded = dict(runtime.degraded)
        if degraded:
            checks["consumers"] = "; ".join(f"{g} degraded: {why}" for g, why in sorted(degraded.items()))
        status = "unavailable" if not healthy else ("degraded" if degraded else "ok")
        return JSONResponse({"status": status, "checks": checks}, 200 if healthy else 503)

    @r.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    return r


async def _oldest_unsent(db: Database) -> float:
    from sqlalchemy import text

    async with db.engine.connect() as conn:
        age = (
            await conn.execute(
                text(
                    "SELECT EXTRACT(EPOCH FROM now() - created_at) FROM outbox WHERE sent_at IS NULL "
                    "ORDER BY id LIMIT 1"
                )
            )
        ).scalar()
    return float(age or 0.0)


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
