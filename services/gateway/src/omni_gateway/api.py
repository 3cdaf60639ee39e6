"""Routes: the proxy, the public channel webhook, the merged OpenAPI and its Swagger UI (logic in service)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

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


@router.post("/channels/{platform}/refunds", include_in_schema=False)
async def channel_refund_webhook(request: Request, platform: str) -> Response:
    return await _gateway(request).handle_webhook(request, platform)


@router.get("/openapi.json", include_in_schema=False)
async def merged_openapi(request: Request) -> dict[str, Any]:
    return await _gateway(request).merged_openapi()


# Swagger UI's assets come with the `fastapi-offline` package (Swagger UI 5, which reads OpenAPI 3.1) and
# are served by the gateway itself: /docs works on a machine without internet.
DOCS_ASSETS = "/docs/assets"
_ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
_ASSET_TYPES = {
    "swagger-ui-bundle.js": "text/javascript; charset=utf-8",
    "swagger-ui.css": "text/css; charset=utf-8",
    "favicon.png": "image/png",
}


@router.get("/docs", include_in_schema=False)
async def swagger_ui() -> HTMLResponse:
    return get_swagger_ui_html(
        openapi_url="/openapi.json",
        title="Omni API",
        swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
        swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
        swagger_favicon_url=f"{DOCS_ASSETS}/favicon.png",
        swagger_ui_parameters={"persistAuthorization": True, "displayRequestDuration": True},
    )


@router.get(DOCS_ASSETS + "/{name}", include_in_schema=False)
async def docs_asset(name: str) -> Response:
    media_type = _ASSET_TYPES.get(name)
    if media_type is None:
        raise HTTPException(404, f"no docs asset {name!r}")
    return FileResponse(
        _ASSETS_DIR / name, media_type=media_type, headers={"Cache-Control": "public, max-age=86400"}
    )
