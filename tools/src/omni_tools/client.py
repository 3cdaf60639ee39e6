"""A small client of the gateway, with the API key and clear errors."""

from __future__ import annotations

import os
from typing import Any

import httpx

DEFAULT_GATEWAY = os.environ.get("OMNI_GATEWAY_URL", "http://127.0.0.1:8000")
DEFAULT_KEY = os.environ.get("OMNI_API_KEY", "dev-admin-key")


class GatewayError(RuntimeError):
    pass


def gateway(base_url: str = DEFAULT_GATEWAY, api_key: str = DEFAULT_KEY, **kw: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        base_url=base_url, headers={"X-API-Key": api_key}, timeout=httpx.Timeout(30, connect=5), **kw
    )


def check(response: httpx.Response, *ok: int) -> Any:
    """The JSON body, or a GatewayError that says what the service answered."""
    allowed = ok or (200, 201, 202)
    if response.status_code not in allowed:
        raise GatewayError(
            f"{response.request.method} {response.request.url.path} -> {response.status_code}: "
            f"{response.text[:500]}"
        )
    return response.json() if response.content else None
