"""Fake upstream services: small real FastAPI apps served by uvicorn on free local ports."""

from __future__ import annotations

import asyncio
import hashlib
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse, PlainTextResponse, RedirectResponse
from pydantic import BaseModel


@dataclass
class Seen:
    """What an upstream received."""

    method: str
    raw_path: bytes
    query: bytes
    headers: dict[str, str]
    body: bytes


@dataclass
class Upstream:
    name: str
    app: FastAPI
    seen: list[Seen] = field(default_factory=list)
    url: str = ""

    def last(self) -> Seen:
        assert self.seen, f"the {self.name} upstream received nothing"
        return self.seen[-1]


def _recording_app(up: Upstream) -> FastAPI:
    app = FastAPI(title=up.name)

    @app.middleware("http")
    async def record(request: Request, call_next):
        body = await request.body()
        up.seen.append(
            Seen(
                request.method,
                request.scope.get("raw_path", b""),
                request.scope.get("query_string", b""),
                {k.lower(): v for k, v in request.headers.items()},
                body,
            )
        )
        return await call_next(request)

    return app


def _echo(request: Request, **extra: Any) -> dict[str, Any]:
    return {"path": request.url.path, "query": request.url.query, "method": request.method, **extra}


class Material(BaseModel):
    code: str
    name: str


class Task(BaseModel):
    task_id: str
    node_code: str


def product_upstream() -> Upstream:
    up = Upstream("product", FastAPI())
    app = up.app = _recording_app(up)

    @app.get("/materials", response_model=list[Material])
    async def list_materials() -> list[Material]:
        return [Material(code="M1", name="beans")]

    @app.post("/materials", status_code=201, response_model=Material)
    async def create_material(m: Material) -> Material:
        return m

    @app.get("/materials/{code}/label")
    async def label(code: str) -> PlainTextResponse:
        return PlainTextResponse(f"label {code}", status_code=409, headers={"X-Upstream": "product"})

    @app.get("/slow")
    async def slow() -> dict[str, str]:
        await asyncio.sleep(3)  # longer than the read timeout the timeout test gives the gateway
        return {"late": "yes"}

    @app.get("/big")
    async def big() -> PlainTextResponse:
        return PlainTextResponse("x" * 1_000_000)  # larger than the gateway reads whole: streamed

    @app.get("/old")
    async def old(request: Request) -> RedirectResponse:
        return RedirectResponse(str(request.base_url) + "materials?x=1", status_code=307)

    return up


def fulfillment_upstream() -> Upstream:
    up = Upstream("fulfillment", FastAPI())
    app = up.app = _recording_app(up)

    @app.get("/tasks")
    async def tasks(request: Request) -> dict[str, Any]:
        return _echo(request)

    @app.get("/tasks/{task_id}", response_model=Task)
    async def task(task_id: str, request: Request) -> Task:
        return Task(task_id=task_id, node_code=request.headers.get("x-omni-node-scope", ""))

    @app.post("/tasks/{task_id}/accept")
    async def accept(task_id: str, request: Request) -> dict[str, Any]:
        return _echo(request, task_id=task_id)

    return up


def channel_upstream() -> Upstream:
    up = Upstream("channel", FastAPI())
    app = up.app = _recording_app(up)

    @app.post("/channels/{platform}/orders", status_code=202)
    async def webhook(platform: str, request: Request) -> Response:
        body = await request.body()
        digest = hashlib.sha256(body).hexdigest()
        return JSONResponse({"platform": platform, "sha256": digest}, status_code=202)

    @app.get("/shops")
    async def shops() -> dict[str, Any]:
        return {"items": [], "total": 0, "limit": 50, "offset": 0}

    return up


@asynccontextmanager
async def serving(app: FastAPI) -> AsyncIterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", access_log=False))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.fixture(scope="module")
async def upstreams() -> AsyncIterator[dict[str, Upstream]]:
    ups = {u.name: u for u in (product_upstream(), fulfillment_upstream(), channel_upstream())}
    async with (
        serving(ups["product"].app) as p,
        serving(ups["fulfillment"].app) as f,
        serving(ups["channel"].app) as c,
    ):
        ups["product"].url, ups["fulfillment"].url, ups["channel"].url = p, f, c
        yield ups
