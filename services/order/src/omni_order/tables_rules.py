"""Tables of the rules engine: rule sets and strategies with every version kept, the holds on orders, the
decision trace, and the buyer blacklist (SQLAlchemy Core; only `store_rules` queries them)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    Table,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB

from .tables import TS, metadata

# a rule set's current version is the newest row of ruleset_versions; a rollback writes a new version
rulesets = Table(
    "rulesets",
    metadata,
    Column("ruleset_id", Text, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

ruleset_versions = Table(
    "ruleset_versions",
    metadata,
    Column("ruleset_id", Text, ForeignKey("rulesets.ruleset_id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("doc", JSONB, nullable=False),
    Column("comment", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    PrimaryKeyConstraint("ruleset_id", "version"),
)

strategies = Table(
    "strategies",
    metadata,
    Column("strategy_id", Text, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("name", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    Column("updated_at", TS, nullable=False),
)

strategy_versions = Table(
    "strategy_versions",
    metadata,
    Column("strategy_id", Text, ForeignKey("strategies.strategy_id", ondelete="CASCADE"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("doc", JSONB, nullable=False),
    Column("comment", Text, nullable=False),
    Column("created_at", TS, nullable=False),
    PrimaryKeyConstraint("strategy_id", "version"),
)

# why an order waits; a hold is ended by release or approve (released_at, ended_by) or by a cancel
order_holds = Table(
    "order_holds",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("order_id", Text, ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False),
    Column("code", Text, nullable=False),
    Column("reason", Text, nullable=False),
    Column("rule", Text),  # "rule <id> (<ruleset> v<n>)", or None for a hold the flow itself set
    Column("blocking", Boolean, nullable=False),
    Column("held_at", TS, nullable=False),
    Column("ended_at", TS),
    Column("ended_by", Text),  # release | approve | cancel
    Column("end_reason", Text),
    Index("order_holds_by_order", "order_id", "id"),
    Index("order_holds_open_by_code", "code", "held_at", postgresql_where="ended_at IS NULL"),
)

# the decision trace: per order, every strategy and rule considered, in order
order_decisions = Table(
    "order_decisions",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("order_id", Text, ForeignKey("orders.order_id", ondelete="CASCADE"), nullable=False),
    Column("stage", Text, nullable=False),
    Column("subject", Text, nullable=False),
    Column("matched", Boolean, nullable=False),
    Column("why", Text, nullable=False),
    Column("effect", Text, nullable=False),
    Column("at", TS, nullable=False),
    Index("order_decisions_by_order", "order_id", "id"),
)

buyer_blacklist = Table(
    "buyer_blacklist",
    metadata,
    Column("buyer_key", Text, primary_key=True),  # a platform nick or merge key
    Column("reason", Text, nullable=False),
    Column("added_at", TS, nullable=False),
)
