"""one consumer group per subscriber: carry the inbox of `inventory` over to its two successors

Revision ID: inventory0003
Revises: inventory0002
Create Date: 2026-12-02

Until this revision both inventory subscribers shared the consumer group `inventory` (one on omni.fulfillment,
one on omni.order), and so one DLQ. Now each has its own group: `inventory-fulfillment` and
`inventory-orders` (see consumers.py). New Kafka groups start from the EARLIEST offset, so after an upgrade
both re-read their topics from the start; what keeps that harmless is the inbox, which is keyed by consumer
name. This migration therefore copies every inbox row of the old consumer to both new names, so that every
event the old group handled is skipped as a duplicate by the new groups instead of being applied again.

Inbox rows carry the deployment's group prefix (`OMNI_CONSUMER_GROUP_PREFIX`, e.g. `e2e.inventory`), so the
copy is done for every prefix found: `<prefix>inventory` -> `<prefix>inventory-fulfillment` and
`<prefix>inventory-orders`. Every row goes to both names (a row for an event a consumer never reads is
harmless) with ON CONFLICT DO NOTHING, so running it against a database that already has rows under the new
names (or twice) is safe. The old rows stay (they cost nothing and allow a downgrade).

Order matters on a running deployment: run it after the old version's consumers stopped and before the
new version's start (what `omni migrate` does in a deploy): rows the old group writes after the copy would
not be carried over.

Downgrade copies the other way (rows of either new name -> the old name), for the same reason.
"""

from alembic import op

revision = "inventory0003"
down_revision = "inventory0002"
branch_labels = None
depends_on = None

OLD = "inventory"
NEW = ("inventory-fulfillment", "inventory-orders")


def upgrade() -> None:
    # `<prefix>inventory`: any consumer whose name ends with the old group; its prefix is what comes before
    op.execute(
        f"""
        INSERT INTO inbox (consumer, event_id, event_type, processed_at)
        SELECT left(i.consumer, length(i.consumer) - {len(OLD)}) || n.name, i.event_id, i.event_type,
               i.processed_at
        FROM inbox i CROSS JOIN (VALUES ('{NEW[0]}'), ('{NEW[1]}')) AS n(name)
        WHERE right(i.consumer, {len(OLD)}) = '{OLD}'
        ON CONFLICT DO NOTHING
        """
    )


def downgrade() -> None:
    for name in NEW:
        op.execute(
            f"""
            INSERT INTO inbox (consumer, event_id, event_type, processed_at)
            SELECT left(consumer, length(consumer) - {len(name)}) || '{OLD}', event_id, event_type,
                   processed_at
            FROM inbox
            WHERE right(consumer, {len(name)}) = '{name}'
            ON CONFLICT DO NOTHING
            """
        )
