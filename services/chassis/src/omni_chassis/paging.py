"""Bounded paging for every list route, and the string types that bound what reaches SQL.

    from omni_chassis.paging import Limit, Offset, page

    @router.get("/things")
    async def list_things(limit: Limit = 50, offset: Offset = 0):
        items, total = await store.list_things(session, limit=limit, offset=offset)
        return page(items, total, limit=limit, offset=offset)      # adds next_offset

`limit` is 1..200 (default 50); `offset` is 0..100000 (deeper than that: narrow the filters or follow a
keyset cursor). Keyset cursors (`Cursor`, `encode_cursor`, `decode_cursor`) are opaque: URL-safe base64 of
the JSON list of the last item's sort key; a list whose store orders by a unique key answers `next_cursor`
and takes `?cursor=` instead of an offset. Out-of-range or undecodable values are a 422 problem.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, BeforeValidator, Field, Strict, StringConstraints, model_validator

from .errors import ProblemError

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAX_OFFSET = 100_000
MAX_CURSOR = 512

Limit = Annotated[int, Query(ge=1, le=MAX_LIMIT, description=f"page size, 1..{MAX_LIMIT}")]
Offset = Annotated[
    int,
    Query(
        ge=0, le=MAX_OFFSET, description=f"items to skip, 0..{MAX_OFFSET}; follow `next_offset` to page on"
    ),
]
CursorParam = Annotated[
    str | None,
    Query(
        min_length=1,
        max_length=MAX_CURSOR,
        pattern=r"^[A-Za-z0-9_-]+={0,2}$",
        description="opaque: the `next_cursor` of the previous page",
    ),
]

# Strings with explicit bounds (and no NUL: the chassis's NulGuard refuses one anywhere in a request).
# `\x85` is spelled out: Python's and Rust's `\s` include it, ECMA-262's (what OpenAPI tools use) does not.
Text = Annotated[str, StringConstraints(max_length=500)]
Code = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[^\s\x85\x00]+$")]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]


def _json_int(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)  # 3.0 is the integer 3 in JSON Schema; 3.5, "3" and true stay refused (strict)
    return value


# A strict integer as JSON Schema means it: no strings or booleans, but 3.0 is 3.
JsonInt = Annotated[int, BeforeValidator(_json_int), Strict()]


def json_int(ge: int | None = None, le: int | None = None) -> Any:
    """A JsonInt with bounds the OpenAPI schema states as `minimum` / `maximum`: the bounds come before the
    validator. `Annotated[JsonInt, Field(ge=1)]` validates the same but publishes `"ge": 1`, which no client
    or fuzzer understands, and a `JsonInt | None = Field(ge=1)` loses them; use `json_int(1) | None`."""
    return Annotated[int, Field(ge=ge, le=le), Strict(), BeforeValidator(_json_int)]


T = TypeVar("T")


class PageParams(BaseModel):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)
    cursor: list[Any] | None = None


def page_params(limit: Limit = DEFAULT_LIMIT, offset: Offset = 0, cursor: CursorParam = None) -> PageParams:
    """A dependency (`params: Paging`); a cursor and an offset exclude each other."""
    if cursor is not None and offset:
        raise ProblemError(
            422,
            "Invalid request",
            "give either cursor or offset, not both",
            problems=[{"path": "query.cursor", "message": "not together with offset"}],
        )
    return PageParams(limit=limit, offset=offset, cursor=decode_cursor(cursor) if cursor else None)


Paging = Annotated[PageParams, Depends(page_params)]


class PageInfo(BaseModel):
    """The base of every page answer: `next_offset` is filled in from total, limit and offset."""

    total: int = Field(description="items matching the filters")
    limit: int
    offset: int
    next_offset: int | None = Field(None, description="the next page's offset; null on the last page")

    @model_validator(mode="after")
    def _fill_next(self) -> PageInfo:
        if self.next_offset is None:
            self.next_offset = next_offset(self.total, limit=self.limit, offset=self.offset)
        return self


class Page(PageInfo, Generic[T]):
    items: list[T]
    next_cursor: str | None = Field(None, description="the next page's cursor, where keyset paging applies")


def next_offset(total: int, *, limit: int, offset: int) -> int | None:
    nxt = offset + limit
    return nxt if nxt < total and nxt <= MAX_OFFSET else None


def page(
    items: Sequence[Any], total: int, *, limit: int, offset: int, next_cursor: str | None = None
) -> dict[str, Any]:
    """The answer of a list route: items, total, limit, offset and where the next page starts."""
    return {
        "items": list(items),
        "total": total,
        "limit": limit,
        "offset": offset,
        "next_offset": next_offset(total, limit=limit, offset=offset),
        "next_cursor": next_cursor,
    }


def encode_cursor(key: Sequence[Any]) -> str:
    """The opaque cursor after an item whose sort key is `key` (JSON-able values: str, int, ISO times)."""
    raw = json.dumps(list(key), separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor.rstrip("=")) % 4)
        key = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        key = None
    if not isinstance(key, list) or not key or any(isinstance(v, (dict, list)) for v in key):
        raise ProblemError(
            422,
            "Invalid request",
            "the cursor is not one this service issued",
            problems=[{"path": "query.cursor", "message": "not a cursor issued by this service"}],
        )
    if any(isinstance(v, str) and "\x00" in v for v in key):
        raise ProblemError(
            422,
            "Invalid request",
            "the cursor is invalid",
            problems=[{"path": "query.cursor", "message": "NUL"}],
        )
    return key


def cursor_page(items: Sequence[Any], total: int, *, limit: int, key: Any, offset: int = 0) -> dict[str, Any]:
    """A keyset page: `items` were fetched with `limit + 1`; `key(item)` gives an item's sort key."""
    more = len(items) > limit
    items = list(items)[:limit]
    nxt = encode_cursor(key(items[-1])) if more and items else None
    body = page(items, total, limit=limit, offset=offset, next_cursor=nxt)
    body["next_offset"] = None
    return body
