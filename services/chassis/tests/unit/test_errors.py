"""Problem details: every error of a chassis app answers RFC 9457 `application/problem+json`."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel, Field
from structlog.testing import capture_logs

from omni_chassis.errors import ProblemError, dotted, install_problem_handlers
from omni_chassis.paging import Limit, Offset, page

PROBLEM = "application/problem+json"


class Line(BaseModel):
    qty: int = Field(gt=0)


class Body(BaseModel):
    name: str = Field(max_length=10)
    lines: list[Line] = Field(min_length=1)


def make_app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/things/{thing_id}", responses={409: {"description": "the thing is frozen"}})
    async def post_thing(thing_id: str, body: Body) -> dict:
        if thing_id == "frozen":
            raise ProblemError(409, "Conflict", "thing frozen is frozen", on_hand=3)
        return {"thing_id": thing_id, "name": body.name}

    @app.get("/things")
    async def list_things(limit: Limit = 50, offset: Offset = 0) -> dict:
        return page(["a"], 1, limit=limit, offset=offset)

    @app.post("/things")
    async def create_thing(body: Body) -> dict:
        return {"name": body.name}

    @app.get("/legacy/{thing_id}")
    async def legacy(thing_id: str) -> dict:
        if thing_id == "list":
            raise HTTPException(422, [{"path": "body.x", "message": "bad"}])
        raise HTTPException(404, f"no thing {thing_id}")

    @app.get("/boom")
    async def boom() -> dict:
        raise RuntimeError("connection to 10.0.0.1 failed for buyer 13812345678")

    return app


@pytest.fixture
async def client():
    transport = httpx.ASGITransport(app=make_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


def is_problem(r: httpx.Response, status: int) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == PROBLEM
    body = r.json()
    assert body["status"] == status and body["title"] and body["type"] and isinstance(body["detail"], str)
    return body


async def test_validation_failures_list_every_problem_with_a_dotted_path(client):
    r = await client.post("/things/x", json={"name": "far too long a name", "lines": [{"qty": 0}]})
    body = is_problem(r, 422)
    assert {p["path"] for p in body["problems"]} == {"body.name", "body.lines[0].qty"}
    assert body["instance"] == "/things/x"
    assert "far too long" not in r.text  # the rejected value is never echoed


async def test_query_bounds_and_int64_overflow_are_422_not_500(client):
    for params, path in (({"limit": 0}, "query.limit"), ({"offset": 2**70}, "query.offset")):
        body = is_problem(await client.get("/things", params=params), 422)
        assert [p["path"] for p in body["problems"]] == [path]
    assert (await client.get("/things", params={"limit": 200, "offset": 100_000})).status_code == 200
    assert (await client.get("/things", params={"offset": 100_001})).status_code == 422


@pytest.mark.parametrize(
    ("request_kw", "path"),
    [
        ({"method": "GET", "url": "/things", "params": {"limit": "1\x00"}}, "query.limit"),
        ({"method": "GET", "url": "/legacy/a%00b"}, "path"),
        (
            {"method": "POST", "url": "/things/x", "json": {"name": "a\x00", "lines": [{"qty": 1}]}},
            "body.name",
        ),
        (
            {"method": "POST", "url": "/things/x", "json": {"name": "a", "lines": [{"qty": 1, "k": "\x00"}]}},
            "body.lines[0].k",
        ),
    ],
)
async def test_a_nul_character_anywhere_is_a_422_naming_the_field(client, request_kw, path):
    body = is_problem(await client.request(**request_kw), 422)
    assert body["problems"] == [{"path": path, "message": "must not contain a NUL character (\\u0000)"}]


async def test_a_json_body_without_nul_reaches_the_route_intact(client):
    r = await client.post("/things/x", json={"name": "a\\u0000", "lines": [{"qty": 1}]})
    # an escaped backslash followed by 'u0000' is text, not NUL: the guard parses before it refuses
    assert r.status_code == 200 and r.json()["name"] == "a\\u0000"


async def test_http_exceptions_unknown_routes_and_methods_become_problems(client):
    assert is_problem(await client.get("/legacy/x"), 404)["detail"] == "no thing x"
    assert is_problem(await client.get("/nowhere"), 404)["detail"] == "no route /nowhere"
    r = await client.delete("/things")
    assert is_problem(r, 405)["detail"] == "DELETE is not allowed on /things"
    assert r.headers["allow"] == "GET, POST"  # every route's methods at the path, not only the first's
    assert is_problem(await client.get("/legacy/list"), 422)["problems"] == [
        {"path": "body.x", "message": "bad"}
    ]


async def test_problem_error_carries_extension_members(client):
    body = is_problem(await client.post("/things/frozen", json={"name": "a", "lines": [{"qty": 1}]}), 409)
    assert body["detail"] == "thing frozen is frozen" and body["on_hand"] == 3


async def test_an_unhandled_error_is_a_500_that_reveals_nothing(client):
    with capture_logs() as logs:
        body = is_problem(await client.get("/boom"), 500)
    assert "13812345678" not in str(body) and "10.0.0.1" not in str(body) and "RuntimeError" not in str(body)
    [line] = [e for e in logs if e["event"] == "unhandled error"]
    assert line["error_class"] == "RuntimeError" and line["path"] == "/boom"
    assert "13812345678" not in str(line)  # the message is scrubbed


def test_the_openapi_documents_one_problem_schema_on_every_route():
    doc = make_app().openapi()
    schemas = doc["components"]["schemas"]
    assert "Problem" in schemas and "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    ref = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    post = doc["paths"]["/things/{thing_id}"]["post"]["responses"]
    assert {"404", "409", "422", "500"} <= set(post) and all(
        post[c]["content"] == ref for c in ("404", "409")
    )
    assert post["409"]["description"] == "the thing is frozen"  # the route's own words are kept
    listing = doc["paths"]["/things"]["get"]
    assert {"422", "500"} <= set(listing["responses"]) and "404" not in listing["responses"]
    limit = next(p for p in listing["parameters"] if p["name"] == "limit")["schema"]
    assert (limit["minimum"], limit["maximum"]) == (1, 200)
    name = schemas["Body"]["properties"]["name"]
    assert name["pattern"] == "^[^\\x00]*$"  # what the NUL guard enforces, stated


def test_dotted_paths():
    assert dotted(("body", "lines", 0, "qty")) == "body.lines[0].qty"
    assert dotted(("query", "limit")) == "query.limit"
    assert dotted(()) == "request"
