"""Use cases of quality states (good, defective 次品, quarantined 待检/隔离) and the stock view per state.

The stock row's `on_hand` is the GOOD stock (what can be sold); non-good stock is kept per (node, material,
state) beside it. A quality move out of good stock takes only what is available (one conditional UPDATE, so
never what a reservation or a freeze holds); a move out of a non-good state takes only what that state holds.
Idempotent per move id. When the good stock changes, the ledger gets a row (kind `quality`, the signed
delta) and `inventory.stock-changed` (v3) says so; the move record itself is the ledger of the non-good
states (from, to, qty, reason).
"""

from __future__ import annotations

from dataclasses import dataclass

from omni_chassis.logging import get_logger
from omni_contracts import utcnow

from ..domain.model import IdempotencyConflict, InventoryError, Line, StockLevel
from ..domain.physical import QualityState, check_quality_move, quality_refusal, raise_problems
from ..records import StockRow
from ..records_physical import QualityMoveRow, QualityQty
from .changes import StockChanges, Uow

log = get_logger(__name__)
_SPACE = " \t\r\n"


@dataclass(frozen=True)
class StockView:
    """Everything known of one material at one node: good stock (the stock row), each non-good state and
    what is in transit to the node."""

    node_code: str
    material_code: str
    stock: StockRow | None
    defective: int = 0
    quarantined: int = 0
    in_transit: int = 0

    @property
    def level(self) -> StockLevel:
        return self.stock.level if self.stock else StockLevel(0)

    @property
    def known(self) -> bool:
        return self.stock is not None or any((self.defective, self.quarantined, self.in_transit))


async def view_of(uow: Uow, node: str, material: str) -> StockView:
    """Inside an open unit of work."""
    states = await uow.repo.quality_of(node, material)
    return StockView(
        node,
        material,
        await uow.repo.get_stock(node, material),
        defective=states.get(QualityState.DEFECTIVE.value, 0),
        quarantined=states.get(QualityState.QUARANTINED.value, 0),
        in_transit=await uow.repo.in_transit_of(node, material),
    )


async def stock_view(uow: Uow, node: str, material: str) -> StockView:
    async with uow:
        return await view_of(uow, node, material)


@dataclass(frozen=True)
class QualityMoveCommand:
    move_id: str
    node_code: str
    material_code: str
    qty: int
    from_state: str
    to_state: str
    reason: str


@dataclass(frozen=True)
class QualityMoveResult:
    move: QualityMoveRow
    view: StockView
    created: bool


async def move(uow: Uow, cmd: QualityMoveCommand) -> QualityMoveResult:
    """Move `qty` from one quality state to another; refused (with the numbers) beyond what the source has."""
    raise_problems(check_quality_move(cmd.qty, cmd.from_state, cmd.to_state, cmd.reason))
    now = utcnow()
    row = QualityMoveRow(
        cmd.move_id,
        cmd.node_code,
        cmd.material_code,
        cmd.qty,
        cmd.from_state,
        cmd.to_state,
        cmd.reason.strip(_SPACE),
        now,
    )
    src, dst = QualityState(cmd.from_state), QualityState(cmd.to_state)
    node, material = cmd.node_code, cmd.material_code
    async with uow:
        if not await uow.repo.claim_quality_move(row):
            done = await uow.repo.get_quality_move(cmd.move_id)
            assert done is not None
            if _content(done) != _content(row):
                raise IdempotencyConflict(
                    f"quality move {cmd.move_id} was already recorded with other content ({done.qty} of "
                    f"{done.material_code} at node {done.node_code} from {done.from_state} to "
                    f"{done.to_state}); "
                    "use a new move id"
                )
            return QualityMoveResult(done, await view_of(uow, node, material), created=False)
        changes = StockChanges()
        if src is QualityState.GOOD:
            stock = await uow.repo.take_good(node, material, cmd.qty, now)
            if stock is None:
                current = await uow.repo.get_stock(node, material)
                raise quality_refusal(
                    node, material, src, cmd.qty, current.level if current else StockLevel(0)
                )
            changes.stock(stock, "quality", cmd.move_id, -cmd.qty, 0, None)
        elif await uow.repo.take_quality(node, material, src.value, cmd.qty, now) is None:
            held = (await uow.repo.quality_of(node, material)).get(src.value, 0)
            raise quality_refusal(node, material, src, cmd.qty, held)
        if dst is QualityState.GOOD:
            (stock,) = await uow.repo.receive(node, [Line(material, cmd.qty)], now)
            changes.stock(stock, "quality", cmd.move_id, cmd.qty, 0, None)
        else:
            await uow.repo.add_quality(node, material, dst.value, cmd.qty, now)
        changes.publish(uow)
        view = await view_of(uow, node, material)
    log.info(
        "quality move",
        move_id=cmd.move_id,
        node_code=node,
        material_code=material,
        qty=cmd.qty,
        from_state=src.value,
        to_state=dst.value,
    )
    return QualityMoveResult(row, view, created=True)


def _content(m: QualityMoveRow) -> tuple[object, ...]:
    return (m.node_code, m.material_code, m.qty, m.from_state, m.to_state, m.reason)


async def get_move(uow: Uow, move_id: str) -> QualityMoveRow | None:
    async with uow:
        return await uow.repo.get_quality_move(move_id)


async def list_moves(
    uow: Uow, *, node: str | None, material: str | None, limit: int, offset: int
) -> tuple[list[QualityMoveRow], int]:
    async with uow:
        return await uow.repo.list_quality_moves(node=node, material=material, limit=limit, offset=offset)


async def list_non_good(
    uow: Uow, *, node: str | None, material: str | None, state: str | None, limit: int, offset: int
) -> tuple[list[QualityQty], int]:
    if state is not None and state not in (QualityState.DEFECTIVE, QualityState.QUARANTINED):
        raise InventoryError(f"unknown non-good state {state!r}")
    async with uow:
        return await uow.repo.list_quality(
            node=node, material=material, state=state, limit=limit, offset=offset
        )
