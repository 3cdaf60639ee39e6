"""The gateway's use cases: authenticate, authorise, rate-limit, forward; merge the services' OpenAPI.

One shared `aiohttp.ClientSession` (connection pool) carries every upstream call. The correlation id the
chassis middleware settled on is sent upstream (and returned to the client by the middleware), and the W3C
trace context of a client span is injected so that the upstream's spans join the gateway's trace.

Why aiohttp and not httpx: measured under 64 requests in flight, httpx/httpcore spent most of the gateway's
~10 ms of CPU per proxied request in its pool bookkeeping (`is_socket_readable` and `is_idle` over every
pooled connection, O(n) per request, and an `import trio` attempt through sniffio on every response close).
aiohttp's connector keeps idle connections in a per-host deque. A response of known, small length is read
whole and answered as a plain `Response` (no streaming task); anything else is streamed through.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote

import aiohttp
from fastapi import Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from multidict import CIMultiDict
from opentelemetry import propagate
from opentelemetry.trace import SpanKind
from prometheus_client import Counter, Histogram
from starlette.background import BackgroundTask
from yarl import URL

from omni_chassis.context import correlation_id_var
from omni_chassis.errors import problem_response
from omni_chassis.logging import get_logger
from omni_chassis.tracing import tracer

from .domain import openapi
from .domain.keys import KeyRing
from .domain.permissions import SERVICES, STORE_STAFF, allowed, denial, path_problem
from .domain.ratelimit import TokenBuckets, retry_after_seconds

log = get_logger(__name__)

API_KEY_HEADER = "X-API-Key"
CORRELATION_HEADER = "X-Correlation-ID"
NODE_SCOPE_HEADER = "X-Omni-Node-Scope"
ROLE_HEADER = "X-Omni-Role"
PRINCIPAL_HEADER = "X-Omni-Principal"

HOP_BY_HOP = frozenset(
    {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer"}
    | {"transfer-encoding", "upgrade"}
)
# Never passed upstream from the client: the gateway sets these itself (or they are the client's secret).
_DROP_REQUEST = HOP_BY_HOP | {"host", "content-length", "x-api-key", "traceparent", "tracestate", "baggage"}
_DROP_REQUEST |= {"x-correlation-id", "x-forwarded-for"}
# Never passed back from the upstream: the gateway's own server adds these.
_DROP_RESPONSE = HOP_BY_HOP | {"date", "server", "x-correlation-id"}
_DROP_RESPONSE_B = frozenset(h.encode() for h in _DROP_RESPONSE)
# An upstream answer of known length up to this size is read whole (no streaming task per request).
SMALL_BODY_BYTES = 256 * 1024

REQUESTS = Counter(
    "omni_gateway_requests_total", "Requests forwarded upstream, by upstream answer", ["service", "status"]
)
REFUSED = Counter("omni_gateway_refused_total", "Requests the gateway answered itself", ["reason"])
UPSTREAM_SECONDS = Histogram(
    "omni_gateway_upstream_seconds",
    "Time until the upstream's response headers arrive",
    ["service"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def refuse(status: int, detail: str, reason: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    REFUSED.labels(reason).inc()
    return problem_response(status, detail, headers=dict(headers or {}), instance=None)


def upstream_headers(client_headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The client's end-to-end headers, minus hop-by-hop ones, the API key and anything X-Omni-*."""
    named_by_connection = {
        token.strip().lower()
        for k, v in client_headers
        if k.lower() == "connection"
        for token in v.split(",")
    }
    out = []
    for k, v in client_headers:
        lk = k.lower()
        if lk in _DROP_REQUEST or lk in named_by_connection or lk.startswith("x-omni-"):
            continue
        out.append((k, v))
    if not any(k.lower() == "accept-encoding" for k, _ in out):
        out.append(("Accept-Encoding", "identity"))  # what the client gets is what the upstream sent
    return out


def _upstream_raw_path(request: Request, prefix_segments: int) -> bytes:
    """The raw (still percent-encoded) request path without its first `prefix_segments` segments."""
    raw: bytes = request.scope.get("raw_path") or quote(request.url.path).encode()
    parts = raw.split(b"?", 1)[0].split(b"/", prefix_segments + 1)
    return b"/" + parts[prefix_segments + 1] if len(parts) > prefix_segments + 1 else b"/"


class Gateway:
    def __init__(
        self,
        *,
        upstreams: Mapping[str, str],
        keyring: KeyRing,
        client: aiohttp.ClientSession,
        api_limiter: TokenBuckets,
        webhook_limiter: TokenBuckets,
        openapi_ttl_s: float = 30.0,
        openapi_timeout_s: float = 5.0,
        max_body_bytes: int = 10 * 1024 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        missing = set(SERVICES) - set(upstreams)
        if missing:
            raise ValueError(f"no upstream URL for {sorted(missing)}")
        self.upstreams = {name: url.rstrip("/") for name, url in upstreams.items()}
        self.keyring = keyring
        self.client = client
        self.api_limiter = api_limiter
        self.webhook_limiter = webhook_limiter
        self.openapi_ttl_s = openapi_ttl_s
        self.openapi_timeout_s = openapi_timeout_s
        self.max_body_bytes = max_body_bytes
        self.clock = clock
        self._openapi: tuple[float, dict[str, Any]] | None = None
        self._openapi_lock = asyncio.Lock()

    # -- /api/<service>/<path>

    async def handle_api(self, request: Request, service: str, path: str) -> Response:
        presented = request.headers.get(API_KEY_HEADER)
        if not presented:
            return refuse(401, "missing API key", "missing_key")
        principal = self.keyring.lookup(presented)
        if principal is None:
            return refuse(401, "unknown API key", "unknown_key")
        wait = self.api_limiter.take(principal.name, self.clock())
        if wait:
            return refuse(
                429,
                f"rate limit exceeded for API key {principal.name}; retry later",
                "rate_limited",
                {"Retry-After": str(retry_after_seconds(wait))},
            )
        if service not in self.upstreams:
            return refuse(
                404, f"unknown service {service!r}; known: {', '.join(SERVICES)}", "unknown_service"
            )
        path = "/" + path
        problem = path_problem(path)
        if problem:
            return refuse(400, problem, "bad_path")
        if not allowed(principal.role, service, request.method, path):
            log.info(
                "request denied", principal=principal.name, role=principal.role, service=service, path=path
            )
            return refuse(403, denial(principal.role, service, request.method, path), "forbidden")
        extra = {ROLE_HEADER: principal.role, PRINCIPAL_HEADER: principal.name}
        if principal.role == STORE_STAFF and principal.node_code:
            extra[NODE_SCOPE_HEADER] = principal.node_code
        return await self.forward(request, service, _upstream_raw_path(request, 2), extra, f"/api/{service}")

    # -- POST /channels/{platform}/orders or /refunds (no key: the channel checks the platform's signature)

    async def handle_webhook(self, request: Request, platform: str) -> Response:
        # a platform names its shop in the query; a POS till in X-Pos-Shop (its body is HMAC-signed per shop)
        shop = request.query_params.get("shop_id") or request.headers.get("x-pos-shop") or "-"
        wait = self.webhook_limiter.take(f"{platform}:{shop}", self.clock())
        if wait:
            return refuse(
                429,
                f"rate limit exceeded for {platform} shop {shop}; retry later",
                "rate_limited",
                {"Retry-After": str(retry_after_seconds(wait))},
            )
        return await self.forward(request, "channel", _upstream_raw_path(request, 0), {}, "")

    # -- forwarding

    async def forward(
        self,
        request: Request,
        service: str,
        raw_path: bytes,
        extra_headers: Mapping[str, str],
        public_prefix: str,
    ) -> Response:
        """Send the request to `service` at `raw_path`; `public_prefix` is where that service's paths live on
        the gateway (for redirects the upstream answers with)."""
        body = await self._read_body(request)
        if body is None:
            return refuse(413, f"request body larger than {self.max_body_bytes} bytes", "too_large")
        query = request.scope.get("query_string") or b""
        target = raw_path + (b"?" + query if query else b"")
        url = URL(self.upstreams[service] + target.decode("latin-1"), encoded=True)
        headers = upstream_headers(request.headers.items())
        headers.extend(extra_headers.items())
        corr = correlation_id_var.get()
        if corr:
            headers.append((CORRELATION_HEADER, corr))
        if request.client:
            prior = request.headers.get("x-forwarded-for")
            headers.append(
                ("X-Forwarded-For", f"{prior}, {request.client.host}" if prior else request.client.host)
            )
        with tracer().start_as_current_span(f"proxy {service}", kind=SpanKind.CLIENT) as span:
            span.set_attribute("http.method", request.method)
            span.set_attribute("omni.upstream", service)
            carrier: dict[str, str] = {}
            propagate.inject(carrier)
            headers.extend(carrier.items())
            started = time.perf_counter()
            try:
                upstream = await self.client.request(
                    request.method,
                    url,
                    headers=CIMultiDict(headers),
                    data=body or None,
                    allow_redirects=False,
                )
            except TimeoutError as exc:
                REQUESTS.labels(service, "504").inc()
                log.warning("upstream timed out", service=service, error=type(exc).__name__)
                return refuse(504, f"the {service} service did not answer in time", "upstream_timeout")
            except aiohttp.ClientError as exc:
                REQUESTS.labels(service, "502").inc()
                log.warning(
                    "upstream unavailable", service=service, error=f"{type(exc).__name__}: {exc}"[:300]
                )
                return refuse(502, f"the {service} service is unavailable", "upstream_unavailable")
            finally:
                UPSTREAM_SECONDS.labels(service).observe(time.perf_counter() - started)
            span.set_attribute("http.status_code", upstream.status)
        REQUESTS.labels(service, str(upstream.status)).inc()
        raw_headers = self._response_headers(upstream, service, public_prefix)
        length = upstream.content_length
        if length is not None and length <= SMALL_BODY_BYTES:
            try:
                content = await upstream.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                REQUESTS.labels(service, "502").inc()
                log.warning("upstream body lost", service=service, error=f"{type(exc).__name__}: {exc}"[:300])
                return refuse(502, f"the {service} service is unavailable", "upstream_unavailable")
            finally:
                upstream.release()
            response = Response(content, status_code=upstream.status)
            response.raw_headers = raw_headers  # the upstream's own, Content-Length included
            return response
        streamed = StreamingResponse(
            upstream.content.iter_any(),
            status_code=upstream.status,
            background=BackgroundTask(upstream.release),
        )
        streamed.raw_headers.extend(raw_headers)
        return streamed

    async def _read_body(self, request: Request) -> bytes | None:
        """The whole body, or None as soon as it exceeds the limit (declared or streamed)."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body_bytes:
            return None
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
        return b"".join(chunks)

    def _response_headers(
        self, upstream: aiohttp.ClientResponse, service: str, prefix: str
    ) -> list[tuple[bytes, bytes]]:
        """The upstream's headers (status, body and content-type as sent), repeated ones kept apart."""
        out: list[tuple[bytes, bytes]] = []
        base = self.upstreams[service]
        for k, v in upstream.raw_headers:
            lk = k.lower()
            if lk in _DROP_RESPONSE_B:
                continue
            if lk == b"location" and v.decode("latin-1").startswith(base):
                # a redirect to the upstream's own address: point it back through the gateway
                v = (prefix + (v.decode("latin-1")[len(base) :] or "/")).encode("latin-1")
            out.append((lk, v))
        return out

    # -- one OpenAPI document

    async def merged_openapi(self) -> dict[str, Any]:
        async with self._openapi_lock:
            now = self.clock()
            if self._openapi is not None and self._openapi[0] > now:
                return self._openapi[1]
            results = await asyncio.gather(*(self._fetch_spec(s) for s in SERVICES))
            specs = {s: spec for s, spec in zip(SERVICES, results, strict=True) if spec is not None}
            unavailable = [s for s, spec in zip(SERVICES, results, strict=True) if spec is None]
            doc = openapi.merge(specs, unavailable=unavailable)
            self._openapi = (now + self.openapi_ttl_s, doc)
            return doc

    async def _fetch_spec(self, service: str) -> dict[str, Any] | None:
        url = self.upstreams[service] + "/openapi.json"
        try:
            timeout = aiohttp.ClientTimeout(total=self.openapi_timeout_s)
            async with self.client.get(url, timeout=timeout) as resp:
                resp.raise_for_status()
                spec = await resp.json(content_type=None)
            if not isinstance(spec, dict) or not isinstance(spec.get("paths"), dict):
                raise ValueError("not an OpenAPI document")
            return spec
        except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
            log.warning("openapi unavailable", service=service, error=f"{type(exc).__name__}: {exc}"[:300])
            return None
