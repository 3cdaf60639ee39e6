"""`omni replay order catalog` on the real broker and database: the command a person runs, as a subprocess.

The live consumer builds the catalog from a history with stale and repeated versions; the replay rebuilds
it from offset 0 and finds it identical; a corrupted live catalog is reported by `omni replay` (exit 1),
then healed by `--swap`, row by row equal to what the live consumer had built (every column but
`updated_at`, set at apply time).
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import sys
import uuid
from typing import Any

import pytest
from order_db_helpers import order_database, publish, rows
from order_factories import envelope, product_events
from sqlalchemy import text

from omni_chassis.kafka import create_topics
from omni_chassis.replay import replay
from omni_chassis.testing import eventually, running_consumers
from omni_contracts import Topic
from omni_contracts.events.product import BundleComponent, MaterialUpsertedV1, SalesProductUpsertedV1
from omni_order import consumers, store
from omni_order.projections import CATALOG

pytestmark = pytest.mark.integration

KEYS = {
    "catalog_materials": "code",
    "catalog_sales_products": "code",
    "catalog_sales_product_components": "sales_product_code, position",
    "catalog_channel_listings": "listing_id",
}


async def snapshot(db: Any) -> dict[str, list[dict[str, Any]]]:
    """Every row of the catalog, every column but updated_at, in key order."""
    out = {}
    for table, key in KEYS.items():
        found = await rows(db, f"SELECT to_jsonb(t) - 'updated_at' FROM {table} t ORDER BY {key}")
        out[table] = [r[0] for r in found]
    return out


async def omni(db: Any, prefix: str, bootstrap: str, *args: str) -> tuple[int, str]:
    env = os.environ | {
        "ORDER_DATABASE_URL": db.dsn, "OMNI_TOPIC_PREFIX": prefix, "KAFKA_BOOTSTRAP_SERVERS": bootstrap,
        "COLUMNS": "200", "LOG_LEVEL": "WARNING",
    }  # fmt: skip
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "omni_chassis.cli", "replay", "order", "catalog", *args,
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode()


def history(s: str) -> list[Any]:
    def bundle(version: int, name: str, parts: list[tuple[str, int]]) -> SalesProductUpsertedV1:
        comps = [BundleComponent(material_code=m + s, qty=q, price_weight=1) for m, q in parts]
        return SalesProductUpsertedV1(
            code="GIFT" + s, name=name, kind="bundle", version=version, components=comps
        )

    events = product_events(1, s) + product_events(2, s)  # every aggregate at v1, then v2
    events += product_events(1, s)[:3]  # stale: must change nothing
    events += [bundle(1, "gift v1", [("MUG", 1)]), bundle(3, "gift v3", [("MUG", 2), ("SPOON", 1)])]
    events += [bundle(2, "gift v2 late", [("BOWL", 9)])]  # stale: its components must not win either
    events.append(MaterialUpsertedV1(code="END" + s, name="marker", unit="pcs", weight_g=1, version=1))
    return [envelope(e) for e in events]


async def test_replay_rebuilds_the_catalog_equal_to_the_live_one_and_heals_it(kafka_bootstrap, make_database):
    db = await order_database(make_database)
    s = uuid.uuid4().hex[:8]
    prefix = f"test.replay{s}."
    topic = prefix + Topic.PRODUCT
    await create_topics(kafka_bootstrap, [topic], 3)
    envs = history(s)
    await publish(kafka_bootstrap, topic, [*envs, envs[0], envs[5]])  # two delivered twice
    spec = dataclasses.replace(consumers.catalog_spec(), topics=[topic], group=f"order-catalog-{s}")

    async with running_consumers(kafka_bootstrap, db, [spec], repository=store.Repository):
        marker = f"SELECT count(*) FROM catalog_materials WHERE code = 'END{s}'"
        await eventually(lambda: _first(db, marker))
        live = await snapshot(db)
        assert [r["name"] for r in live["catalog_sales_products"] if r["code"] == "GIFT" + s] == ["gift v3"]
        gift = [r for r in live["catalog_sales_product_components"] if r["sales_product_code"] == "GIFT" + s]
        assert [(r["material_code"], r["qty"]) for r in gift] == [("MUG" + s, 2), ("SPOON" + s, 1)]
        assert {r["version"] for r in live["catalog_channel_listings"]} == {2}

        report = await replay(db, CATALOG, bootstrap=kafka_bootstrap, topic_prefix=prefix)
        assert report.identical and report.duplicates == 2 and report.skipped_count == 0
        assert [t.rebuilt_rows for t in report.tables] == [len(live[t]) for t in KEYS]

        async with db.transaction() as t:  # corrupt the live catalog
            await t.execute(text(f"DELETE FROM catalog_channel_listings WHERE listing_id = 'L-BEANS{s}'"))
            await t.execute(text(f"UPDATE catalog_materials SET name = 'wrong' WHERE code = 'END{s}'"))
            gift_2 = f"sales_product_code = 'GIFT{s}' AND position = 2"
            await t.execute(text(f"DELETE FROM catalog_sales_product_components WHERE {gift_2}"))
            ghost = "('GHOST', 'g', NULL, 'pcs', 1, false, true, 9, now())"
            await t.execute(text(f"INSERT INTO catalog_materials VALUES {ghost}"))
        rc, out = await omni(db, prefix, kafka_bootstrap, "--dry-run")
        assert rc == 1, out
        assert "4 row(s) differ" in out and "'name': ['wrong', 'marker']" in out, out
        assert (await snapshot(db)) != live  # a dry run changes nothing

        rc, out = await omni(db, prefix, kafka_bootstrap, "--swap")
        assert rc == 0 and "swapped" in out, out
        assert await snapshot(db) == live  # row by row what the live consumer had built
        old = await rows(db, "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'replay_old_catalog_%'")
        assert len(old) == 1
        assert await rows(db, f"SELECT name FROM {old[0][0]}.catalog_materials WHERE code = 'END{s}'") == [
            ("wrong",)
        ]

        # the live consumer goes on, on the swapped-in rows (a newer version still wins, a stale one not)
        await publish(
            kafka_bootstrap,
            topic,
            [envelope(MaterialUpsertedV1(code="END" + s, name="v2", unit="pcs", weight_g=1, version=2))],
        )
        newer = f"SELECT count(*) FROM catalog_materials WHERE code = 'END{s}' AND version = 2"
        await eventually(lambda: _first(db, newer))


async def _first(db: Any, sql: str) -> Any:
    return (await rows(db, sql))[0][0]


def test_the_projection_is_the_live_consumers_own():
    spec = consumers.catalog_spec()
    assert CATALOG.topics == tuple(spec.topics) and CATALOG.event_types == spec.event_types
