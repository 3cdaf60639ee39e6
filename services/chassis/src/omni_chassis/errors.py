"""One error shape for every service: RFC 9457 problem details (`application/problem+json`).

    {"type": "about:blank", "title": "Not Found", "status": 404, "detail": "no order o-1",
     "instance": "/orders/o-1", "problems": [{"path": "body.lines[0].qty", "message": "..."}]}

`install_problem_handlers(app)` (called by `create_app`) makes every error answer this shape:
- `ProblemError(status, title, detail, problems=..., type=...)`, raised by a route or a use case;
- `HTTPException(status, detail)` (what the routes raised before): the status and detail become a problem;
  a detail that is a list of `{path, message}` becomes `problems`;
- request validation (FastAPI's 422): every failure as `{path, message}` with a dotted path
  (`body.lines[0].qty`, `query.limit`), never the rejected value;
- unknown routes (404), wrong methods (405, with `Allow`);
- anything unhandled: a 500 problem that says nothing of the exception; the log gets its class and a
  scrubbed message;
- a NUL character in the path, the query string, a header or a JSON body string (PostgreSQL refuses it in
  text): a 422 problem naming the field, before the request reaches a route (`NulGuard`).
It also post-processes the app's OpenAPI (`document_problems`) so that every route documents these answers.
"""

from __future__ import annotations

import json
import re
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request

from .logging import get_logger
from .problems_openapi import HTTP_METHODS, PROBLEM_JSON, document_problems

try:  # the chassis's failure classifier scrubs SQL parameters and phone numbers out of error text
    from .failures import describe as _describe
except ImportError:  # pragma: no cover - older chassis

    def _describe(exc: BaseException, limit: int = 300) -> str:
        return type(exc).__name__


log = get_logger("omni.errors")

VALIDATION_TYPE = "urn:omni:problem:validation"
NUL_TYPE = "urn:omni:problem:nul-character"


class ProblemItem(BaseModel):
    """One thing wrong with the request: where (`body.lines[0].qty`, `query.limit`) and what."""

    path: str
    message: str


class Problem(BaseModel):
    """RFC 9457 problem details. Extension members (e.g. the stock levels behind a refusal) may follow."""

    model_config = ConfigDict(extra="allow", json_schema_extra={"additionalProperties": True})

    type: str = Field("about:blank", description="a URI naming the kind of problem")
    title: str = Field(description="short, the same for every problem of this type")
    status: int = Field(ge=100, le=599, description="the HTTP status code")
    detail: str = Field(description="what went wrong this time, in a sentence")
    instance: str | None = Field(None, description="the request path")
    problems: list[ProblemItem] | None = Field(None, description="every validation failure, when there are")


class ProblemError(Exception):
    """Raise from a route or a use case to answer with a problem (`extensions` become extra members)."""

    def __init__(
        self,
        status: int,
        title: str | None = None,
        detail: str = "",
        *,
        problems: list[ProblemItem] | list[dict[str, str]] | None = None,
        type: str = "about:blank",
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or title or str(status))
        self.status = status
        self.title = title or _phrase(status)
        self.detail = detail or self.title
        self.problems = [p if isinstance(p, ProblemItem) else ProblemItem(**p) for p in problems or []]
        self.type = type
        self.headers = headers
        self.extensions = extensions


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def problem_body(
    status: int,
    detail: str,
    *,
    title: str | None = None,
    type: str = "about:blank",
    instance: str | None = None,
    problems: list[ProblemItem] | list[dict[str, str]] | None = None,
    **extensions: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": type,
        "title": title or _phrase(status),
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    if problems:
        body["problems"] = [p.model_dump() if isinstance(p, ProblemItem) else dict(p) for p in problems]
    body.update(extensions)
    return body


def problem_response(
    status: int, detail: str, *, headers: dict[str, str] | None = None, **kw: Any
) -> JSONResponse:
    """A problem as a response (for code that returns rather than raises, e.g. the gateway)."""
    return JSONResponse(
        problem_body(status, detail, **kw), status_code=status, headers=headers, media_type=PROBLEM_JSON
    )


def dotted(loc: tuple[Any, ...] | list[Any]) -> str:
    """('body', 'lines', 0, 'qty') -> 'body.lines[0].qty'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "request"


# -- handlers ---------------------------------------------------------------------------------------------
async def _on_problem(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ProblemError)
    return problem_response(
        exc.status,
        exc.detail,
        title=exc.title,
        type=exc.type,
        instance=request.url.path,
        problems=exc.problems,
        headers=exc.headers,
        **exc.extensions,
    )


async def _on_http(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    detail: Any = exc.detail
    problems = None
    extensions: dict[str, Any] = {}
    if isinstance(detail, list):
        problems = [
            ProblemItem(path=str(p.get("path", "")), message=str(p.get("message", ""))) for p in detail
        ]
        detail = f"{len(problems)} problem(s)"
    elif isinstance(detail, dict):
        extensions = {k: v for k, v in detail.items() if k not in ("type", "title", "status", "detail")}
        detail = str(detail.get("detail") or _phrase(exc.status_code))
    elif exc.status_code == 404 and detail == "Not Found":
        detail = f"no route {request.url.path}"
    elif exc.status_code == 405 and detail == "Method Not Allowed":
        detail = f"{request.method} is not allowed on {request.url.path}"
    headers = dict(getattr(exc, "headers", None) or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
    return problem_response(
        exc.status_code,
        str(detail),
        instance=request.url.path,
        problems=problems,
        headers=headers or None,
        **extensions,
    )


def _allowed_methods(request: Request) -> str:
    """Every method the OpenAPI document lists at this path (Starlette's 405 names only the first route's).
    The document is the public record of the routes, and what the Allow header must agree with."""
    app = request.app
    table = getattr(app.state, "problem_allow_table", None)
    if table is None:
        table = []
        for template, item in (app.openapi().get("paths") or {}).items():
            regex = re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(template))
            methods = {m.upper() for m in item if m in HTTP_METHODS}
            table.append((re.compile(f"^{regex}$"), methods))
        app.state.problem_allow_table = table
    path = request.scope.get("path", "")
    found: set[str] = set()
    for regex, methods in table:
        if regex.match(path):
            found |= methods
    return ", ".join(sorted(found))


async def _on_validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    problems = [
        ProblemItem(path=dotted(e.get("loc", ())), message=str(e.get("msg", ""))) for e in exc.errors()
    ]
    first = f": {problems[0].path}: {problems[0].message}" if problems else ""
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return problem_response(
        422,
        f"the request is invalid{first}{more}",
        title="Invalid request",
        type=VALIDATION_TYPE,
        instance=request.url.path,
        problems=problems,
    )


def install_problem_handlers(app: FastAPI) -> None:
    """Every error of `app` as a problem, NUL characters refused at the door, problems in the OpenAPI."""
    app.add_exception_handler(ProblemError, _on_problem)
    app.add_exception_handler(StarletteHTTPException, _on_http)
    app.add_exception_handler(RequestValidationError, _on_validation)
    app.add_middleware(NulGuard)
    app.add_middleware(Unhandled)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            doc = get_openapi(
                title=app.title,
                version=app.version,
                openapi_version=app.openapi_version,
                description=app.description,
                routes=app.routes,
                tags=app.openapi_tags,
                servers=app.servers,
            )
            app.openapi_schema = document_problems(doc)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


# -- ASGI guards ------------------------------------------------------------------------------------------
async def _send_problem(send: Any, status: int, body: dict[str, Any]) -> None:
    raw = json.dumps(body, ensure_ascii=False).encode()
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(raw)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": raw})


class Unhandled:
    """Anything a route did not handle becomes a 500 problem that reveals nothing; the log line has the
    exception's class and its scrubbed message (no SQL parameters, no phone numbers)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracking_send(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:
            log.error(
                "unhandled error",
                path=scope.get("path", ""),
                method=scope.get("method", ""),
                error_class=type(exc).__name__,
                error=_describe(exc, 300),
            )
            if started:
                raise
            body = problem_body(
                500,
                "the server failed to answer this request; it has been logged",
                instance=scope.get("path") or None,
            )
            await _send_problem(send, 500, body)


def _nul_path(node: Any, path: str) -> str | None:
    """The dotted path of the first string (or key) holding a NUL character in a JSON document."""
    if isinstance(node, str):
        return path if "\x00" in node else None
    if isinstance(node, dict):
        for k, v in node.items():
            if "\x00" in k:
                return f"{path}.{k!r}"
            found = _nul_path(v, f"{path}.{k}")
            if found:
                return found
    if isinstance(node, list):
        for i, v in enumerate(node):
            found = _nul_path(v, f"{path}[{i}]")
            if found:
                return found
    return None


class NulGuard:
    """Refuses (422 problem) a NUL character in the path, the query string, a header or a JSON body string:
    PostgreSQL cannot store one in text, and no Omni field has a use for it. Cheap: a JSON body is parsed
    only when its bytes contain the escape `\\u0000`."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        where = self._head_problem(scope)
        if where is None and _is_json(scope):
            chunks: list[bytes] = []
            more = True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    break
                chunks.append(message.get("body", b""))
                more = message.get("more_body", False)
            body = b"".join(chunks)
            if b"\\u0000" in body:
                try:
                    where = _nul_path(json.loads(body), "body")
                except ValueError:
                    where = None  # not JSON: the route's own parsing says so
            replayed = False

            async def replay() -> dict[str, Any]:
                nonlocal replayed
                if not replayed:
                    replayed = True
                    return {"type": "http.request", "body": body, "more_body": False}
                return await receive()

            if where is None:
                await self.app(scope, replay, send)
                return
        if where is None:
            await self.app(scope, receive, send)
            return
        message = "must not contain a NUL character (\\u0000)"
        body_ = problem_body(
            422,
            f"{where} {message}",
            title="Invalid request",
            type=VALIDATION_TYPE,
            instance=scope.get("path") or None,
            problems=[{"path": where, "message": message}],
        )
        await _send_problem(send, 422, body_)

    @staticmethod
    def _head_problem(scope: dict[str, Any]) -> str | None:
        if "\x00" in scope.get("path", ""):
            return "path"
        qs: bytes = scope.get("query_string") or b""
        if b"%00" in qs or b"\x00" in qs:
            for name, value in parse_qsl(qs.decode("latin-1"), keep_blank_values=True):
                if "\x00" in value or "\x00" in name:
                    return f"query.{name.replace(chr(0), '')}"
            return "query"
        for name, value in scope.get("headers") or ():
            if b"\x00" in value:
                return f"header.{name.decode('latin-1')}"
        return None


def _is_json(scope: dict[str, Any]) -> bool:
    if scope.get("method") in ("GET", "HEAD", "OPTIONS", "DELETE"):
        return False
    for name, value in scope.get("headers") or ():
        if name == b"content-type":
            return b"json" in value.lower()
    return False


__all__ = [
    "PROBLEM_JSON",
    "NulGuard",
    "Problem",
    "ProblemError",
    "ProblemItem",
    "Unhandled",
    "document_problems",
    "install_problem_handlers",
    "problem_body",
    "problem_response",
]
