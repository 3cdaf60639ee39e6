"""REST routes of the allocation rules (layer 3): thin. Validate, call the service, shape the answer.

The rules are one document, replaced whole: `PUT /allocation-rules` (with `expected_version`, the version
the operator read, so two operators never overwrite each other unknowingly) answers the new version, or a
422 that lists every problem, and nothing changes. `POST /allocation-rules/dry-run` says what a document
would change, listing by listing, without changing anything.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from pydantic import AwareDatetime, BaseModel, Field

from omni_chassis.app import Uow
from omni_chassis.errors import ProblemError, problem_response
from omni_chassis.paging import Limit, Offset, PageInfo, json_int

from .domain.rules import RuleDocument, RuleProblem
from .service import rules
from .service.rules import RulesRejected, RulesState, VersionConflict

router = APIRouter(tags=["allocation rules"])


class RulesIn(RuleDocument):
    expected_version: json_int(0) | None = Field(
        None, description="the version this change is based on (0: none yet); a 409 when it moved on"
    )
    note: str = Field("", max_length=500, description="why the rules changed")

    def document(self) -> RuleDocument:
        return RuleDocument.model_validate(self.model_dump(exclude={"expected_version", "note"}))


class RulesOut(RuleDocument):
    version: int = Field(description="0: no rules yet (every channel shares every node)")
    note: str
    created_at: AwareDatetime | None


class RulesPage(PageInfo):
    items: list[RulesOut]
    total: int
    limit: int
    offset: int


class ReplacedOut(BaseModel):
    version: int
    listings_changed: int = Field(description="listings whose sellable quantity this change republished")


class DryRunLineOut(BaseModel):
    listing_id: str
    current: int
    proposed: int


class DryRunOut(BaseModel):
    valid: bool
    problems: list[dict[str, str]]
    changes: list[DryRunLineOut] = Field(description="listings whose number would change (at most `limit`)")


def _out(s: RulesState) -> RulesOut:
    return RulesOut(version=s.version, note=s.note, created_at=s.created_at, **s.document.model_dump())  # type: ignore[arg-type]


def _problems(found: list[RuleProblem]) -> list[dict[str, str]]:
    return [{"path": p.path, "message": p.message} for p in found]


@router.get("/allocation-rules", response_model=RulesOut)
async def get_rules(uow: Uow) -> Any:
    """The rules in force: pools, allocations, water levels, safety stock, listing formulas."""
    return _out(await rules.current(uow))


@router.put("/allocation-rules", response_model=ReplacedOut, responses={409: {}, 422: {}})
async def put_rules(body: RulesIn, uow: Uow) -> Any:
    """Replace the rules as a whole: the next version, in force for every listing at once."""
    try:
        done = await rules.replace(
            uow, body.document(), note=body.note, expected_version=body.expected_version
        )
    except RulesRejected as exc:
        raise ProblemError(422, "Unprocessable Content", str(exc), problems=_problems(exc.problems)) from exc
    except VersionConflict as exc:
        return problem_response(409, str(exc))
    return ReplacedOut(version=done.version, listings_changed=done.listings_changed)


@router.post("/allocation-rules/dry-run", response_model=DryRunOut)
async def dry_run(body: RuleDocument, uow: Uow, limit: Annotated[int, Query(ge=1, le=1000)] = 200) -> Any:
    """What this document would change, without changing anything (problems listed, not refused)."""
    found, changes = await rules.dry_run(uow, body, limit=limit)
    return DryRunOut(
        valid=not found,
        problems=_problems(found),
        changes=[
            DryRunLineOut(listing_id=c.listing_id, current=c.current, proposed=c.proposed) for c in changes
        ],
    )


@router.get("/allocation-rules/versions", response_model=RulesPage)
async def list_versions(uow: Uow, limit: Limit = 50, offset: Offset = 0) -> Any:
    """Every version, newest first."""
    items, total = await rules.list_versions(uow, limit=limit, offset=offset)
    return {"items": [_out(s) for s in items], "total": total, "limit": limit, "offset": offset}


@router.get("/allocation-rules/versions/{version}", response_model=RulesOut, responses={404: {}})
async def get_version(version: Annotated[int, Path(ge=1, le=2**31 - 1)], uow: Uow) -> Any:
    found = await rules.get_version(uow, version)
    if found is None:
        raise HTTPException(404, f"no allocation rules version {version}")
    return _out(found)
