"""Routes: the proxy, the public channel webhook, the merged OpenAPI and its Swagger UI (logic in service)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse

from .domain.permissions import ANY
from .service import Gateway

router = APIRouter()
METHODS = sorted(ANY)


def _gateway(request: Request) -> Gateway:
    return request.app.state.gateway


@router.api_route("/api/{service}", methods=METHODS, include_in_schema=False)
async def proxy_root(request: Request, service: str) -> Response:
    return await _gateway(request).handle_api(request, service, "")


@router.api_route("/api/{service}/{path:path}", methods=METHODS, include_in_schema=False)
async def proxy(request: Request, service: str, path: str) -> Response:
    return await _gateway(request).handle_api(request, service, path)


@router.post("/channels/{platform}/orders", include_in_schema=False)
async def channel_webhook(request: Request, platform: str) -> Response:
    return await _gateway(request).handle_webhook(request, platform)


@router.get("/openapi.json", include_in_schema=False)
async def merged_openapi(request: Request) -> dict[str, Any]:
    return await _gateway(request).merged_openapi()


@router.get("/docs", include_in_schema=False)
async def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Omni API",
        swagger_ui_parameters={"persistAuthorization": True, "displayRequestDuration": True},
    )
