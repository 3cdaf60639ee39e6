"""REST routes of the rules engine: rule sets and strategies (each save a new version, history kept,
rollback), the dry-run, and the buyer blacklist. Thin: validate, call a use case, shape the answer.

A rule set or strategy that names an unknown channel, shop or sku, or whose definitions loop, is a 422
listing every problem (`problems[].path` points into the body); nothing is saved.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from omni_chassis.app import Uow
from omni_chassis.errors import ProblemError
from omni_chassis.paging import JsonInt, Limit, Offset, PageInfo, json_int

from .domain.rules.ruleset import RuleSetDoc, StrategyDoc
from .service import dryrun, rules

router = APIRouter(tags=["rules"])
IdPath = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")]
Comment = Annotated[str, Query(max_length=500, description="why it changed, kept with the version")]


class DocOut(BaseModel):
    id: str
    version: int
    name: str
    comment: str
    created_at: AwareDatetime
    updated_at: AwareDatetime


class RuleSetOut(DocOut):
    doc: RuleSetDoc


class StrategyOut(DocOut):
    doc: StrategyDoc


class VersionOut(BaseModel):
    version: int
    comment: str
    created_at: AwareDatetime
    doc: dict[str, Any]


class RuleSetPage(PageInfo):
    items: list[RuleSetOut]
    total: int
    limit: int
    offset: int


class StrategyPage(PageInfo):
    items: list[StrategyOut]
    total: int
    limit: int
    offset: int


class Rollback(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to_version: JsonInt = Field(ge=1, le=1_000_000)
    comment: str = Field("", max_length=500)


class DryRunIn(BaseModel):
    """Over the newest `last` orders (of those created in [`from`, `to`) when given), with the current
    version, a given `version`, or an unsaved `draft`."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    last: JsonInt = Field(100, ge=1, le=5000)
    from_: AwareDatetime | None = Field(None, alias="from")
    to: AwareDatetime | None = None
    version: json_int(1, 1_000_000) | None = None
    draft: RuleSetDoc | None = None

    @model_validator(mode="after")
    def _one_source(self) -> DryRunIn:
        if self.version is not None and self.draft is not None:
            raise ValueError("give version or draft, not both")
        return self


class BlacklistIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: str = Field(min_length=1, max_length=500, pattern=r"\S")


class BlacklistEntry(BaseModel):
    buyer_key: str
    reason: str
    added_at: AwareDatetime


class BlacklistPage(PageInfo):
    items: list[BlacklistEntry]
    total: int
    limit: int
    offset: int


async def _call(fn: Any, *args: Any, **kwargs: Any) -> Any:
    try:
        return await fn(*args, **kwargs)
    except rules.DocNotFound as exc:
        raise HTTPException(404, str(exc)) from None
    except rules.DocProblems as exc:
        raise ProblemError(
            422,
            "Invalid request",
            str(exc),
            problems=[{"path": p.path, "message": p.message} for p in exc.problems],
        ) from None


_422 = {422: {"description": "the document names unknown things or loops (every problem listed)"}}


@router.put("/rulesets/{doc_id}", response_model=RuleSetOut, summary="Save a rule set (a new version)",
            responses=_422)  # fmt: skip
async def put_ruleset(uow: Uow, doc_id: IdPath, body: RuleSetDoc, comment: Comment = "") -> Any:
    """Validated whole against what the service knows; the next order uses it."""
    return await _call(rules.save, uow, "ruleset", doc_id, body, comment)


@router.put("/strategies/{doc_id}", response_model=StrategyOut, summary="Save a strategy (a new version)",
            responses=_422)  # fmt: skip
async def put_strategy(uow: Uow, doc_id: IdPath, body: StrategyDoc, comment: Comment = "") -> Any:
    """Which rule set applies to a channel, shop and business model, and the flow's settings."""
    return await _call(rules.save, uow, "strategy", doc_id, body, comment)


def _routes(kind: str, plural: str, out: Any, page_model: Any) -> None:
    @router.get(f"/{plural}", response_model=page_model, summary=f"List {plural}", name=f"list_{kind}")
    async def list_(uow: Uow, limit: Limit = 50, offset: Offset = 0) -> Any:
        items, total = await rules.page(uow, kind, limit, offset)
        return {"items": items, "total": total, "limit": limit, "offset": offset}

    @router.get(f"/{plural}/{{doc_id}}", response_model=out, summary=f"One {kind}: its current version",
                name=f"get_{kind}")  # fmt: skip
    async def get(uow: Uow, doc_id: IdPath) -> Any:
        return await _call(rules.get, uow, kind, doc_id)

    @router.get(f"/{plural}/{{doc_id}}/versions", response_model=list[VersionOut],
                summary=f"Every version of a {kind}, newest first", name=f"versions_{kind}")  # fmt: skip
    async def versions(uow: Uow, doc_id: IdPath) -> Any:
        return await _call(rules.versions, uow, kind, doc_id)

    again = f"Save an earlier {kind} version again as the newest"

    @router.post(f"/{plural}/{{doc_id}}/rollback", response_model=out, responses=_422, summary=again,
                 name=f"rollback_{kind}")  # fmt: skip
    async def rollback(uow: Uow, doc_id: IdPath, body: Rollback) -> Any:
        return await _call(rules.rollback, uow, kind, doc_id, body.to_version, body.comment)


_routes("ruleset", "rulesets", RuleSetOut, RuleSetPage)
_routes("strategy", "strategies", StrategyOut, StrategyPage)


@router.post(
    "/rulesets/{doc_id}/dry-run", summary="What a rule set would do to recent orders (changes nothing)"
)
async def dry_run(uow: Uow, doc_id: IdPath, body: DryRunIn) -> dict[str, Any]:
    return await _call(
        dryrun.dry_run, uow, doc_id, version=body.version, draft=body.draft, last=body.last, since=body.from_,
        until=body.to,
    )  # fmt: skip


@router.get(
    "/buyer-blacklist", response_model=BlacklistPage, summary="Buyers (nick or merge key) held as risk"
)
async def list_blacklist(uow: Uow, limit: Limit = 50, offset: Offset = 0) -> Any:
    items, total = await rules.blacklist_page(uow, limit, offset)
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.put("/buyer-blacklist/{buyer_key}", response_model=BlacklistEntry, summary="Add or update a buyer")
async def put_blacklist(uow: Uow, buyer_key: Annotated[str, Path(min_length=1, max_length=128)],
                        body: BlacklistIn) -> Any:  # fmt: skip
    return await rules.put_blacklist(uow, buyer_key, body.reason)


@router.delete("/buyer-blacklist/{buyer_key}", status_code=204, summary="Remove a buyer from the blacklist")
async def delete_blacklist(uow: Uow, buyer_key: Annotated[str, Path(min_length=1, max_length=128)]) -> None:
    if not await rules.delete_blacklist(uow, buyer_key):
        raise HTTPException(404, f"{buyer_key} is not on the blacklist")
