"""Bounded paging: limits, offsets, cursors and the page answer; JsonInt."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, ValidationError

from omni_chassis.errors import ProblemError, install_problem_handlers
from omni_chassis.paging import (
    MAX_OFFSET,
    JsonInt,
    Page,
    PageInfo,
    Paging,
    cursor_page,
    decode_cursor,
    encode_cursor,
    next_offset,
    page,
)


def test_next_offset_until_the_last_page():
    assert next_offset(120, limit=50, offset=0) == 50
    assert next_offset(120, limit=50, offset=50) == 100
    assert next_offset(120, limit=50, offset=100) is None
    assert next_offset(0, limit=50, offset=0) is None
    assert next_offset(10**9, limit=200, offset=MAX_OFFSET) is None  # never beyond the bound


def test_page_answers_and_models_fill_next_offset():
    assert page([1, 2], 5, limit=2, offset=2) == {
        "items": [1, 2],
        "total": 5,
        "limit": 2,
        "offset": 2,
        "next_offset": 4,
        "next_cursor": None,
    }

    class ThingPage(PageInfo):
        items: list[str]

    assert ThingPage(items=["a"], total=3, limit=1, offset=1).next_offset == 2
    assert Page[int](items=[1], total=1, limit=50, offset=0).next_offset is None


def test_cursors_round_trip_and_refuse_forgeries():
    key = ["2024-05-01T08:00:00+00:00", "o-123", 7]
    cursor = encode_cursor(key)
    assert "=" not in cursor and decode_cursor(cursor) == key
    for bad in ("!!", "bm90IGpzb24", encode_cursor([]), "eyJhIjoxfQ", encode_cursor(["a\x00"])):
        with pytest.raises(ProblemError) as info:
            decode_cursor(bad)
        assert info.value.status == 422 and info.value.problems[0].path == "query.cursor"


def test_cursor_page_fetches_one_more_to_know_there_is_a_next():
    rows = [{"id": i} for i in (9, 8, 7)]
    body = cursor_page(rows, 10, limit=2, key=lambda r: [r["id"]])
    assert [r["id"] for r in body["items"]] == [9, 8] and decode_cursor(body["next_cursor"]) == [8]
    last = cursor_page(rows[:2], 10, limit=2, key=lambda r: [r["id"]])
    assert last["next_cursor"] is None


async def test_the_paging_dependency_bounds_every_value():
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/things")
    async def things(p: Paging) -> dict:
        return {"limit": p.limit, "offset": p.offset, "cursor": p.cursor}

    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        assert (await c.get("/things")).json() == {"limit": 50, "offset": 0, "cursor": None}
        ok = await c.get("/things", params={"limit": 200, "cursor": encode_cursor(["k"])})
        assert ok.json() == {"limit": 200, "offset": 0, "cursor": ["k"]}
        for params, path in (
            ({"limit": 201}, "query.limit"),
            ({"limit": 0}, "query.limit"),
            ({"offset": MAX_OFFSET + 1}, "query.offset"),
            ({"offset": "9" * 30}, "query.offset"),
            ({"cursor": "no spaces"}, "query.cursor"),
            ({"cursor": "QUJD"}, "query.cursor"),  # base64 of ABC: not a cursor
            ({"cursor": encode_cursor(["k"]), "offset": 5}, "query.cursor"),
        ):
            r = await c.get("/things", params=params)
            assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json", params
            assert [p["path"] for p in r.json()["problems"]] == [path], (params, r.json())


def test_json_int_is_strict_but_takes_integral_floats():
    class M(BaseModel):
        n: JsonInt

    assert M(n=3).n == 3 and M.model_validate_json('{"n": 3.0}').n == 3
    for bad in ('{"n": "3"}', '{"n": true}', '{"n": 3.5}'):
        with pytest.raises(ValidationError):
            M.model_validate_json(bad)
    assert M.model_json_schema()["properties"]["n"]["type"] == "integer"
