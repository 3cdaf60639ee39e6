"""What every route module shares: the id and text types, the page shape, mapping domain errors to 404 /
409 / 422 and the PUT conventions (201 when created, 200 when replaced; the body's id equals the path's)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Generic, TypeVar

from fastapi import HTTPException, Path, Response
from fastapi import status as http
from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from omni_chassis.paging import PageInfo

from .domain.model import Conflict, Invalid, NotFound

# Codes appear in URL paths and in every event: no whitespace, no slash, at most 64 characters.
# `\x1c-\x1f`, `\x85` and `\ufeff` are spelled out: Python's str.strip (the domain's blank check), Rust's
# regex (pydantic's) and ECMA-262's (OpenAPI tools') disagree on what whitespace they are.
_WS = r"\s\x1c-\x1f\x85\ufeff"
CODE_PATTERN = rf"^[^{_WS}/]+$"
NOT_BLANK = rf"[^{_WS}]"
Code = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=CODE_PATTERN)]
ChannelId = Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=rf"^[^{_WS}]+$")]
Text = Annotated[
    str,
    StringConstraints(min_length=1, max_length=200, pattern=NOT_BLANK),
    AfterValidator(str.strip),
]
PathCode = Annotated[str, Path(min_length=1, max_length=64, pattern=CODE_PATTERN)]
MAX_INT32 = 2**31 - 1
MAX_CENTS = 10**15

T = TypeVar("T")
PUT_422 = {"description": "invalid, or the body's id differs from the path's (problem details)"}


class Page(PageInfo, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class In(BaseModel):
    # constraints apply to the text as sent (what the schema states); names are trimmed after
    model_config = ConfigDict(extra="forbid")


@contextmanager
def domain_errors() -> Iterator[None]:
    try:
        yield
    except NotFound as exc:
        raise HTTPException(http.HTTP_404_NOT_FOUND, str(exc)) from exc
    except Conflict as exc:
        raise HTTPException(http.HTTP_409_CONFLICT, str(exc)) from exc
    except Invalid as exc:
        raise HTTPException(http.HTTP_422_UNPROCESSABLE_ENTITY, str(exc)) from exc


def same_id(path_value: str, body_value: str | None, name: str) -> None:
    if body_value is not None and body_value != path_value:
        raise HTTPException(
            http.HTTP_422_UNPROCESSABLE_ENTITY,
            f"{name} in the body ({body_value}) differs from the one in the path ({path_value})",
        )


def put_status(response: Response, created: bool) -> None:
    response.status_code = http.HTTP_201_CREATED if created else http.HTTP_200_OK
