"""JD and Pinduoduo order search clients for the pull sync (service/pull.py): one signed call per page.

JD `jingdong.pop.order.search` (JOS `routerjson`; `360buy_param_json` with start_date, end_date, page,
page_size; `searchorderinfo_result.orderInfoList`, `orderTotal`). PDD `pdd.order.number.list.increment.get`
(`/api/router`; start_updated_at, end_updated_at in unix seconds, page, page_size; `order_sn_list`,
`has_next`). Amounts are parsed from the JSON text (Decimal, never a float). A transport failure, a 5xx or
an `error_response` raises PullError: the sync keeps its cursor and retries at its next run.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import aiohttp

from ..domain import platform_signing as sig
from ..domain.pull import FetchPage, Page, Window
from ..domain.signing import format_china_time
from ..domain.tmall_fields import parse_json


class PullError(Exception):
    pass


class _Client:
    def __init__(self, http: aiohttp.ClientSession, url: str, app_key: str, secret: str, token: str,
                 timeout_s: float = 10.0) -> None:  # fmt: skip
        self.http, self.url, self.app_key, self.secret, self.token = http, url, app_key, secret, token
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def _post(self, params: dict[str, str]) -> dict:
        try:
            async with self.http.post(self.url, data=params, timeout=self.timeout) as resp:
                raw = await resp.read()
                if resp.status != 200:
                    raise PullError(f"HTTP {resp.status}")
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise PullError(f"{type(exc).__name__}: {exc}") from None
        doc = parse_json(raw)
        if not isinstance(doc, dict):
            raise PullError("the answer is not a JSON object")
        if "error_response" in doc:
            raise PullError(f"error_response {json.dumps(doc['error_response'], default=str)[:300]}")
        return doc


class JdOrderSearch(_Client):
    async def __call__(self, window: Window, page: int, size: int) -> Page:
        biz = {"start_date": format_china_time(window.start), "end_date": format_china_time(window.end),
               "page": str(page), "page_size": str(size)}  # fmt: skip
        params = {"method": "jingdong.pop.order.search", "app_key": self.app_key, "access_token": self.token,
                  "timestamp": format_china_time(datetime.now(UTC)), "v": "2.0",
                  "360buy_param_json": json.dumps(biz)}  # fmt: skip
        params["sign"] = sig.sign_jd(params, self.secret)
        doc = await self._post(params)
        try:
            result = doc["jingdong_pop_order_search_responce"]["searchorderinfo_result"]
            orders, total = result.get("orderInfoList") or [], int(result.get("orderTotal") or 0)
        except (KeyError, TypeError, ValueError):
            raise PullError("jd: no searchorderinfo_result in the answer") from None
        return Page(orders, has_next=page * size < total)


class PddOrderIncrement(_Client):
    async def __call__(self, window: Window, page: int, size: int) -> Page:
        params = {"type": "pdd.order.number.list.increment.get", "client_id": self.app_key,
                  "access_token": self.token, "timestamp": str(int(datetime.now(UTC).timestamp())),
                  "data_type": "JSON", "is_lucky_flag": "0", "order_status": "5",
                  "start_updated_at": str(int(window.start.timestamp())),
                  "end_updated_at": str(int(window.end.timestamp())),
                  "page": str(page), "page_size": str(size), "use_has_next": "true"}  # fmt: skip
        params["sign"] = sig.sign_pdd(params, self.secret)
        doc = await self._post(params)
        try:
            body = doc["order_sn_increment_get_response"]
            return Page(body.get("order_sn_list") or [], has_next=bool(body.get("has_next")))
        except (KeyError, TypeError, AttributeError):
            raise PullError("pdd: no order_sn_increment_get_response in the answer") from None


def fetcher(http: aiohttp.ClientSession, settings: Any) -> Callable[[str, Any], FetchPage]:
    """The pull sync's clients: (channel, keys with app_key, secret, token) -> that shop's page fetch, at the
    routers the settings name (`OMNI_JD_ROUTER_URL`, `OMNI_PDD_ROUTER_URL`)."""
    urls = {
        "jd": (JdOrderSearch, settings.jd_router_url),
        "pdd": (PddOrderIncrement, settings.pdd_router_url),
    }

    def make(channel: str, keys: Any) -> FetchPage:
        cls, url = urls[channel]
        return cls(http, url, keys.app_key, keys.secret, keys.token, timeout_s=settings.push_timeout_s)

    return make
