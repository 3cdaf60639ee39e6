"""Use cases of the allocation rules (layer 3): read, replace (a new version, whole or not at all), dry-run.

Replacing the rules checks every reference (nodes, channels, listings) and consistency (overlapping pools
for one channel, ratios over 100 %), then stores the next version and recomputes every listing in the SAME
unit of work: the new numbers are published with the version, or nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from omni_chassis.logging import get_logger
from omni_contracts import utcnow

from ..domain.model import IdempotencyConflict, InventoryError
from ..domain.rules import EMPTY, Known, RuleDocument, RuleProblem, problems
from ..domain.sellable import RuleIndex
from ..store_listings import RuleSetRow
from . import listings
from .changes import Uow

log = get_logger(__name__)


class RulesRejected(InventoryError):
    """The document refers to what does not exist, or contradicts itself (a 422 listing every problem)."""

    def __init__(self, found: list[RuleProblem]) -> None:
        super().__init__(f"the allocation rules have {len(found)} problem(s); nothing was changed")
        self.problems = found


class VersionConflict(IdempotencyConflict):
    """The rules changed since the version the caller read (a 409)."""


@dataclass(frozen=True)
class RulesState:
    version: int  # 0: no rules yet (every channel shares every node)
    document: RuleDocument
    note: str
    created_at: object | None


@dataclass(frozen=True)
class Replaced:
    version: int
    listings_changed: int


async def _known(uow: Uow) -> Known:
    return Known(
        nodes=frozenset(await uow.repo.known_node_codes()),
        channels=frozenset(await uow.repo.listing_channels()),
        listings=frozenset(await uow.repo.listing_ids()),
    )


async def check(uow: Uow, doc: RuleDocument) -> list[RuleProblem]:
    return problems(doc, await _known(uow))


async def current(uow: Uow) -> RulesState:
    async with uow:
        version = await uow.repo.rules_version()
        row = await uow.repo.get_rule_set(version) if version else None
    return _state(row)


def _state(row: RuleSetRow | None) -> RulesState:
    if row is None:
        return RulesState(0, EMPTY, "", None)
    return RulesState(row.version, RuleDocument.model_validate(row.document), row.note, row.created_at)


async def get_version(uow: Uow, version: int) -> RulesState | None:
    async with uow:
        row = await uow.repo.get_rule_set(version)
    return _state(row) if row else None


async def list_versions(uow: Uow, *, limit: int, offset: int) -> tuple[list[RulesState], int]:
    async with uow:
        rows, total = await uow.repo.list_rule_sets(limit=limit, offset=offset)
    return [_state(r) for r in rows], total


async def replace(uow: Uow, doc: RuleDocument, *, note: str, expected_version: int | None) -> Replaced:
    """Put `doc` in force as the next version and republish every listing it changes."""
    async with uow:
        version = await uow.repo.rules_version()
        if expected_version is not None and expected_version != version:
            raise VersionConflict(
                f"the rules are at version {version}, not {expected_version}: read them again and retry"
            )
        found = await check(uow, doc)
        if found:
            raise RulesRejected(found)
        if not await uow.repo.add_rule_set(version + 1, doc.model_dump(mode="json"), note, utcnow()):
            raise VersionConflict(
                f"another change made version {version + 1} first: read them again and retry"
            )
        changed = await listings.recompute(uow, None)
    log.info("allocation rules replaced", version=version + 1, listings_changed=changed)
    return Replaced(version + 1, changed)


@dataclass(frozen=True)
class DryRunLine:
    listing_id: str
    current: int
    proposed: int


async def dry_run(uow: Uow, doc: RuleDocument, *, limit: int) -> tuple[list[RuleProblem], list[DryRunLine]]:
    """What `doc` would change, listing by listing (at most `limit` differing ones), without changing it."""
    async with uow:
        found = await check(uow, doc)
        if found:
            return found, []
        ids = await uow.repo.listing_ids()
        now_idx = await listings.rule_index(uow)
        before = await listings.compute(uow, now_idx, ids)
        after = await listings.compute(uow, RuleIndex(doc, now_idx.version + 1), ids)
    out = [
        DryRunLine(lid, before[lid][1].quantity, after[lid][1].quantity)
        for lid in sorted(after)
        if before[lid][1].quantity != after[lid][1].quantity
    ]
    return [], out[:limit]
