"""Taobao/Tmall's TOP router over HTTP: one full stock update per call (domain/stock_push.py decides what
an answer means). A timeout or a broken connection is an answer too: `retry`."""

from __future__ import annotations

import asyncio
from datetime import datetime

import aiohttp

from ..domain.stock_push import Answer, Credentials, Outcome, StockTarget, read_answer, request_params


class TaobaoStock:
    def __init__(self, session: aiohttp.ClientSession, router_url: str, *, timeout_s: float = 10.0) -> None:
        self.session = session
        self.router_url = router_url  # https://gw.api.taobao.com/router/rest, or the simulator's
        self.timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def set_quantity(
        self, target: StockTarget, quantity: int, creds: Credentials, now: datetime
    ) -> Answer:
        params = request_params(target, quantity, creds, now)
        try:
            async with self.session.post(self.router_url, data=params, timeout=self.timeout) as r:
                try:
                    body = await r.json(content_type=None)
                except ValueError:
                    body = None
                return read_answer(r.status, body)
        except TimeoutError:
            return Answer(Outcome.RETRY, f"the platform did not answer within {self.timeout.total:g} s")
        except aiohttp.ClientError as exc:
            return Answer(Outcome.RETRY, f"the platform could not be reached: {type(exc).__name__}")
        except asyncio.CancelledError:
            raise
