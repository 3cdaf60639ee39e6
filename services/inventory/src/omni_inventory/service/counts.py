"""Use cases of cycle counts 盘点: what was counted becomes the stock, and the variance is recorded.

Each line counts one material in one state (good by default) at the node. The good lines' stock rows are
locked first (in the global lock order), so `expected` is exactly what the books said; a line whose count
differs sets on hand to the count in one conditional UPDATE (ledger kind `count`, delta = the variance,
`inventory.stock-changed` v3); a non-good line sets that state's quantity. A line with zero variance is
recorded and changes nothing. Idempotent per count id.

A good line counted below what is held (reserved + frozen) REFUSES the whole count (409): the stock row's
invariant (reserved + frozen <= on hand) cannot hold otherwise, and silently shrinking reservations would
break orders that were promised. The answer lists, per short line, the numbers, how many are missing and
the reservations at risk, so the team releases or re-sources them (or unfreezes) and counts again.
"""

from __future__ import annotations

from dataclasses import dataclass

from omni_chassis.logging import get_logger
from omni_contracts import utcnow

from ..domain.model import IdempotencyConflict, InventoryError, Line
from ..domain.physical import CountLine, CountShort, QualityState, check_count, count_refusal, raise_problems
from ..records_physical import CountedLine, CountRow
from .changes import StockChanges, Uow

log = get_logger(__name__)
GOOD = QualityState.GOOD.value


@dataclass(frozen=True)
class CountCommand:
    count_id: str
    node_code: str
    lines: list[tuple[str, int, str]]  # (material, counted, state)
    note: str = ""


@dataclass(frozen=True)
class CountResult:
    count: CountRow
    created: bool


async def count(uow: Uow, cmd: CountCommand) -> CountResult:
    lines = [CountLine(m, s, c) for m, c, s in cmd.lines]
    raise_problems(check_count(lines))
    lines.sort()
    now = utcnow()
    node = cmd.node_code
    async with uow:
        if not await uow.repo.claim_count(cmd.count_id, node, cmd.note, now):
            done = await uow.repo.get_count(cmd.count_id)
            assert done is not None
            asked = sorted(CountLine(x.material_code, x.state, x.counted) for x in done.lines)
            if (done.node_code, asked, done.note) != (node, lines, cmd.note):
                raise IdempotencyConflict(
                    f"count {cmd.count_id} was already recorded with other content (node {done.node_code}, "
                    f"{len(done.lines)} line(s)); use a new count id"
                )
            return CountResult(done, created=False)
        good = [x for x in lines if x.state == GOOD]
        rows = await uow.repo.stock_for_update({(node, x.material_code) for x in good})
        short = []
        for x in good:
            row = rows.get((node, x.material_code))
            if row is not None and x.counted < row.reserved + row.frozen:
                at_risk = await uow.repo.reservations_holding(node, x.material_code)
                short.append(CountShort(x.material_code, x.counted, row.level, at_risk))
        if short:
            raise count_refusal(node, short)
        others = sorted({x.material_code for x in lines if x.state != GOOD})
        held = await uow.repo.quality_for_update(node, others) if others else {}
        changes = StockChanges()
        recorded = []
        for x in lines:
            if x.state == GOOD:
                row = rows.get((node, x.material_code))
                expected = row.on_hand if row else 0
                if x.counted != expected:
                    if row is None:
                        (after,) = await uow.repo.receive(node, [Line(x.material_code, x.counted)], now)
                    else:
                        found = await uow.repo.set_on_hand(node, x.material_code, x.counted, now)
                        if found is None:  # the row is locked: only inconsistent data gets here
                            raise InventoryError(
                                f"stock of {x.material_code} at node {node} changed while "
                                "counting; count again"
                            )
                        after = found
                    changes.stock(after, "count", cmd.count_id, x.counted - expected, 0, None)
            else:
                expected = held.get((x.material_code, x.state), 0)
                if x.counted != expected:
                    await uow.repo.set_quality(node, x.material_code, x.state, x.counted, now)
            recorded.append(CountedLine(x.material_code, x.state, expected, x.counted))
        await uow.repo.record_count_lines(cmd.count_id, recorded)
        changes.publish(uow)
    log.info(
        "count recorded",
        count_id=cmd.count_id,
        node_code=node,
        lines=len(recorded),
        variances=sum(1 for x in recorded if x.variance),
    )
    return CountResult(CountRow(cmd.count_id, node, recorded, cmd.note, now), created=True)


async def get_count(uow: Uow, count_id: str) -> CountRow | None:
    async with uow:
        return await uow.repo.get_count(count_id)


async def list_counts(uow: Uow, *, node: str | None, limit: int, offset: int) -> tuple[list[CountRow], int]:
    async with uow:
        return await uow.repo.list_counts(node=node, limit=limit, offset=offset)
