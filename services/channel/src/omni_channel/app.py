"""Wiring: settings, consumers, routes, the push worker and the drift check."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import aiohttp
from fastapi import FastAPI
from pydantic import Field

from omni_chassis.app import create_app, serve
from omni_chassis.settings import ServiceSettings

from . import api, api_platforms, api_pos, api_pull, api_push, consumers, credentials, platforms, store
from .api_aftersales import router as aftersales_router
from .api_writeback import router as writeback_router
from .domain.errors import InvalidTrade, MalformedPayload, Unauthorized
from .domain.pull import PullPolicy
from .platforms import carriers, logistics, order_pull
from .service import pull_sync
from .service.claim_loop import Signal
from .service.drift import DriftCheck
from .service.pull_sync import PullSchedule
from .service.push import Backoff
from .service.worker import PushSignal, PushWorker, WorkerSettings
from .service.writeback_worker import WritebackWorker

SIM = "http://127.0.0.1:8090"  # `omni-tools sim` as `make up` starts it
SIM_ROUTER_URL = f"{SIM}/taobao/router/rest"


class Settings(ServiceSettings):
    service_name: str = "channel"
    http_port: int = 8006
    # Taobao/Tmall's TOP router (production: https://gw.api.taobao.com/router/rest)
    taobao_router_url: str = Field(SIM_ROUTER_URL, alias="OMNI_TAOBAO_ROUTER_URL")
    # the other platforms' open APIs; the defaults are the simulator's (production in docs/platforms/*.md)
    jd_router_url: str = Field(f"{SIM}/jd/routerjson", alias="OMNI_JD_ROUTER_URL")
    pdd_router_url: str = Field(f"{SIM}/pdd/api/router", alias="OMNI_PDD_ROUTER_URL")
    douyin_api_url: str = Field(f"{SIM}/douyin", alias="OMNI_DOUYIN_API_URL")
    xiaohongshu_api_url: str = Field(f"{SIM}/xiaohongshu/api/open", alias="OMNI_XIAOHONGSHU_API_URL")
    youzan_api_url: str = Field(f"{SIM}/youzan/api", alias="OMNI_YOUZAN_API_URL")
    push_enabled: bool = Field(True, alias="OMNI_PUSH_ENABLED")  # false: no push worker, no drift check
    push_concurrency: int = Field(16, ge=1, le=256, alias="OMNI_PUSH_CONCURRENCY")
    push_timeout_s: float = Field(10.0, gt=0, le=120, alias="OMNI_PUSH_TIMEOUT_S")
    push_backoff_first_s: float = Field(0.5, gt=0, alias="OMNI_PUSH_BACKOFF_FIRST_S")
    push_backoff_max_s: float = Field(60.0, gt=0, alias="OMNI_PUSH_BACKOFF_MAX_S")
    push_poll_s: float = Field(5.0, gt=0, le=60, alias="OMNI_PUSH_POLL_S")
    drift_interval_s: float = Field(60.0, ge=0, alias="OMNI_DRIFT_INTERVAL_S")  # 0: only on request
    # the shipment write-back (its calls share the push's timeout, backoff and poll)
    writeback_enabled: bool = Field(True, alias="OMNI_WRITEBACK_ENABLED")  # false: no write-back worker
    writeback_concurrency: int = Field(8, ge=1, le=256, alias="OMNI_WRITEBACK_CONCURRENCY")
    # the order pull (JD, PDD): one chassis timer per shop, one page per unit of work (service/pull_sync.py)
    pull_enabled: bool = Field(True, alias="OMNI_PULL_ENABLED")  # false: this process pulls no orders
    pull_interval_s: float = Field(60.0, gt=0, le=86_400, alias="OMNI_PULL_INTERVAL_S")
    pull_overlap_s: float = Field(300.0, ge=0, le=86_400, alias="OMNI_PULL_OVERLAP_S")
    pull_max_span_s: float = Field(1800.0, gt=0, le=86_400, alias="OMNI_PULL_MAX_SPAN_S")
    pull_lookback_s: float = Field(3600.0, gt=0, le=30 * 86_400, alias="OMNI_PULL_LOOKBACK_S")
    pull_page_size: int = Field(100, ge=1, le=100, alias="OMNI_PULL_PAGE_SIZE")
    carrier_codes_file: Path | None = Field(None, alias="OMNI_CARRIER_CODES_FILE")  # None: the built-in map

    def pull_schedule(self) -> PullSchedule:
        policy = PullPolicy(
            overlap=timedelta(seconds=self.pull_overlap_s),
            max_span=timedelta(seconds=self.pull_max_span_s),
            first_lookback=timedelta(seconds=self.pull_lookback_s),
            page_size=self.pull_page_size,
        )
        return PullSchedule(policy=policy, interval=timedelta(seconds=self.pull_interval_s))

    @property
    def push_lease_s(self) -> float:
        """How long a claimed push is a worker's: well past the platform call's timeout."""
        return self.push_timeout_s * 3 + 5

    @classmethod
    def env_names(cls) -> set[str]:
        own = {
            f.alias for n, f in cls.model_fields.items() if f.alias and n not in ServiceSettings.model_fields
        }
        creds = {f.alias for f in credentials.CredentialsSettings.model_fields.values() if f.alias}
        return super().env_names() | own | creds  # the credentials keys are read by credentials.py


async def start_pushing(app: FastAPI) -> None:
    """on_startup: the HTTP session, the platform clients, the push worker and the drift schedule."""
    settings: Settings = app.state.settings
    signal: PushSignal = app.state.push_signal
    http = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=settings.push_concurrency * 2))
    app.state.push_http = http
    clients = platforms.build(http, settings)
    worker = PushWorker(
        app.state.uow,
        clients,
        signal,
        WorkerSettings(
            concurrency=settings.push_concurrency,
            lease_s=settings.push_lease_s,
            poll_s=settings.push_poll_s,
            backoff=Backoff(settings.push_backoff_first_s, settings.push_backoff_max_s),
        ),
    )
    drift = DriftCheck(app.state.uow, clients, signal, interval_s=settings.drift_interval_s or 60.0)
    app.state.push_worker, app.state.drift = worker, drift
    wb = WritebackWorker(
        app.state.uow,
        app.state.writeback_signal,
        WorkerSettings(
            concurrency=settings.writeback_concurrency,
            lease_s=settings.push_lease_s,
            poll_s=settings.push_poll_s,
            backoff=Backoff(settings.push_backoff_first_s, settings.push_backoff_max_s),
        ),
        platforms=logistics.build(http, settings, app.state.carrier_codes),
    )
    app.state.writeback_worker = wb
    if settings.pull_enabled:
        app.state.pull_runner.set_fetcher(order_pull.fetcher(http, settings))
        await pull_sync.ensure_timers(app.state.uow())
    if settings.writeback_enabled:
        app.state.supervisor.start("shipment-writeback", wb.run)
    if settings.push_enabled:
        app.state.supervisor.start("stock-push", worker.run)
        if settings.drift_interval_s > 0:
            app.state.supervisor.start("drift-check", drift.loop)


def build(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    credentials.vault()  # a malformed OMNI_CHANNEL_CREDENTIALS_KEY stops the service here, not at a push
    signal = PushSignal()
    wb_signal = Signal()
    codes = carriers.load(settings.carrier_codes_file)  # a bad carrier map stops the service here
    pull_runner = pull_sync.PullRunner(settings.pull_schedule())
    # the chassis's 422 problem never echoes the input: a shop's secret never comes back
    app = create_app(
        settings,
        title="Omni channel adapters",
        routers=[
            api.router,
            api_pos.router,  # before api_platforms: /channels/pos/orders is not a platform webhook
            api_platforms.router,
            api_push.router,
            writeback_router,
            aftersales_router,
            api_pull.router,
        ],
        consumers=consumers.specs(wake=signal.wake, writeback_wake=wb_signal.wake),
        on_startup=[start_pushing],
        repository=store.Repository,
        timers={pull_sync.PULL_TIMER: pull_runner} if settings.pull_enabled else None,
        # webhook deliveries share transactions; these errors are raised before anything is written
        group_commits={"webhooks": (Unauthorized, MalformedPayload, InvalidTrade)},
    )
    app.state.push_signal, app.state.pull_runner = signal, pull_runner
    app.state.writeback_signal, app.state.carrier_codes = wb_signal, codes
    inner = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(a: FastAPI) -> AsyncIterator[None]:
        try:
            async with inner(a):
                yield
        finally:
            http = getattr(a.state, "push_http", None)
            if http is not None:
                await http.close()

    app.router.lifespan_context = lifespan
    return app


def main() -> None:
    settings = Settings()
    serve(build(settings), settings)
