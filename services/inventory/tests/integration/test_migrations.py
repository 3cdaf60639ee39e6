"""inventory0003: the inbox of the old shared group `inventory` is carried over to its two successors, for
every group prefix, so that the new groups (which start from the earliest offset) skip what was handled."""

from __future__ import annotations

import asyncio
import uuid

import pytest
from alembic import command
from inventory_helpers import MIGRATIONS, rows

from omni_chassis.migrate import _config
from omni_inventory import consumers

pytestmark = pytest.mark.integration


async def test_upgrading_copies_the_old_groups_inbox_to_both_new_groups_per_prefix(db):
    cfg = _config(db.dsn, MIGRATIONS, "alembic_version")
    await asyncio.to_thread(command.downgrade, cfg, "inventory0002")
    handled, other, already = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await rows(
        db,
        "INSERT INTO inbox (consumer, event_id, event_type) VALUES "
        "('inventory', :a, 'fulfillment.shipped'), ('e2e.inventory', :a, 'fulfillment.shipped'), "
        "('e2e.inventory', :c, 'order.cancelled'), ('e2e.inventory-orders', :c, 'order.cancelled'), "
        "('finance-orders', :b, 'order.accepted') RETURNING 1",
        a=handled,
        b=other,
        c=already,
    )

    await asyncio.to_thread(command.upgrade, cfg, "head")

    found = {(r.consumer, r.event_id) for r in await rows(db, "SELECT consumer, event_id FROM inbox")}
    groups = (consumers.FULFILLMENT_GROUP, consumers.ORDERS_GROUP)
    for prefix in ("", "e2e."):
        for group in groups:
            assert (prefix + group, handled) in found, (prefix, group)
    assert ("e2e.inventory-fulfillment", already) in found and ("e2e.inventory-orders", already) in found
    assert ("inventory", handled) in found, "the old rows stay (a downgrade needs them)"
    assert {c for c, e in found if e == other} == {"finance-orders"}, "other consumers are left alone"
    assert len(found) == 5 + 6 - 1, "the row already under its new name was not doubled"

    await asyncio.to_thread(command.upgrade, cfg, "head")  # again: nothing to do, nothing doubled
    assert len(await rows(db, "SELECT 1 FROM inbox")) == len(found)
