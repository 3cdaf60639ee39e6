"""The receiver at rest on the real PostgreSQL (docs/buyer-data.md): no plaintext in the orders table, masked
or full by the caller's X-Omni-Role, the full ship_to in order.accepted, nothing in the logs, and order0010
over rows written before it."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest
from alembic import command
from order_db_helpers import MIGRATIONS, client_for, order_database, outbox, project, rows, scalar, take_in
from order_factories import channel_order, envelope, product_events
from sqlalchemy import text
from structlog.testing import capture_logs

from omni_chassis.migrate import _config

pytestmark = pytest.mark.integration
PLAIN = ("张三", "13800000000", "文三路 1 号")
MASKED = ("张*", "138****0000", "文三路 ****")


def _receiver(body):
    a = body["logistics"]["address"]
    return (a["name"], a["phone"], a["detail"])


async def test_the_table_holds_no_plaintext_reads_are_masked_by_role_and_fulfillment_gets_it_all(
    make_database, caplog, capsys
):
    db = await order_database(make_database)
    await project(db, product_events())
    order = channel_order()
    caplog.set_level(logging.DEBUG)
    with capture_logs() as captured:
        (oid,) = (await take_in(db, [envelope(order), envelope(channel_order(shop_id="S9"))])).accepted
        async with client_for(db) as c:
            views = {}
            for role in (None, "operations", "finance", "admin"):
                r = await c.get(f"/orders/{oid}", headers={"X-Omni-Role": role} if role else {})
                assert r.status_code == 200, r.text
                views[role] = r.json()
            by_channel = await c.get(
                f"/orders/by-channel/tmall/{order.channel_order_id}", headers={"X-Omni-Role": "admin"}
            )
            cancelled = await c.post(
                f"/orders/{oid}/cancel", json={"reason": "buyer asked"}, headers={"X-Omni-Role": "operations"}
            )
    ((name, phone, detail),) = await rows(
        db, "SELECT receiver_name, receiver_phone, address_detail FROM orders WHERE order_id = :o", o=oid
    )
    assert all(v.startswith("enc:v1:test:") for v in (name, phone, detail))
    whole_table = " ".join(r[0] for r in await rows(db, "SELECT o::text FROM orders o"))
    for secret in PLAIN:
        assert secret not in whole_table
    assert (
        await scalar(db, "SELECT receiver_phone_masked FROM orders WHERE order_id = :o", o=oid) == MASKED[1]
    )

    for role in (None, "operations", "finance"):
        assert _receiver(views[role]) == MASKED and views[role]["logistics"]["address"]["masked"] is True, (
            role
        )
    assert _receiver(views["admin"]) == PLAIN and views["admin"]["logistics"]["address"]["masked"] is False
    assert _receiver(by_channel.json()) == PLAIN
    assert cancelled.status_code == 200 and _receiver(cancelled.json()) == MASKED

    (accepted,) = await outbox(db, "order.accepted", key=oid)
    ship = accepted["data"]["ship_to"]
    assert (ship["name"], ship["phone"], ship["detail"]) == PLAIN

    # structlog's records (captured, or rendered to stderr by a logger cached before), stdlib's records
    out = capsys.readouterr()
    logged = repr(captured) + out.err + out.out + caplog.text
    assert "channel orders taken in" in logged  # the capture saw intake's own record
    for secret in (*PLAIN, "文三路"):
        assert secret not in logged


LEGACY = """INSERT INTO orders (order_id, channel, shop_id, channel_order_id, channel_status, business_model,
    buyer_id, role_owner, role_seller, role_channel, buyer_message, created_at, received_at, recorded_at,
    status, updated_at, delivery, receiver_name, receiver_phone, country, state, city, district, town,
    address_detail, zip, currency, goods_cents, discount_cents, post_fee_cents, paid_cents, goods_paid_cents)
    VALUES (:o, 'tmall', 'S1', :c, 'WAIT_SELLER_SEND_GOODS', 'B2C', 'b', 'brand', 'brand', 'tmall:S1', '',
    :at, :at, :at, 'accepted', :at, 'express', :name, :phone, 'CN', '浙江省', '杭州市', '西湖区', '', :detail,
    '', 'CNY', 100, 0, 0, 100, 100)"""


async def _legacy_database(make_database):
    """A database at order0009 with two orders written then: one plain, one with the platform's masks."""
    db = await make_database("order")  # the chassis tables only
    await asyncio.to_thread(command.upgrade, _config(db.dsn, MIGRATIONS, "alembic_version"), "order0009")
    at = datetime(2024, 5, 1, tzinfo=UTC)
    async with db.transaction() as s:
        await s.execute(text(LEGACY), dict(o="O-OLD", c="c-old", at=at, name=PLAIN[0], phone=PLAIN[1],
                                           detail=PLAIN[2]))  # fmt: skip
        await s.execute(text(LEGACY), dict(o="O-TMALL", c="c-tmall", at=at, name="李*", phone="139****1111",
                                           detail="文一西路***"))  # fmt: skip
    return db


async def _to_head(db):
    await asyncio.to_thread(command.upgrade, _config(db.dsn, MIGRATIONS, "alembic_version"), "head")


async def test_order0010_with_the_key_seals_the_rows_written_before_it(make_database, monkeypatch):
    db = await _legacy_database(make_database)
    await _to_head(db)  # the test process has ORDER_BUYER_DATA_KEYS (conftest)
    got = {r.order_id: r for r in await rows(db, "SELECT * FROM orders ORDER BY order_id")}
    old, tmall = got["O-OLD"], got["O-TMALL"]
    assert all(
        v.startswith("enc:v1:test:") for v in (old.receiver_name, old.receiver_phone, old.address_detail)
    )
    assert (old.receiver_name_masked, old.receiver_phone_masked, old.address_detail_masked) == MASKED
    # the platform's masks: marked as such, as intake marks them
    assert (tmall.receiver_name, tmall.receiver_phone) == ("masked:李*", "masked:139****1111")
    assert (tmall.receiver_name_masked, tmall.receiver_phone_masked) == ("李*", "139****1111")
    async with client_for(db) as c:
        admin = (await c.get("/orders/O-OLD", headers={"X-Omni-Role": "admin"})).json()
        ops = (await c.get("/orders/O-OLD", headers={"X-Omni-Role": "operations"})).json()
    assert _receiver(admin) == PLAIN and _receiver(ops) == MASKED


async def test_order0010_without_the_key_keeps_old_rows_plain_and_readable(make_database, monkeypatch):
    db = await _legacy_database(make_database)
    monkeypatch.delenv("ORDER_BUYER_DATA_KEYS")
    await _to_head(db)
    (old,) = await rows(db, "SELECT * FROM orders WHERE order_id = 'O-OLD'")
    assert (old.receiver_name, old.receiver_phone, old.address_detail) == PLAIN  # legacy plain
    assert (old.receiver_name_masked, old.receiver_phone_masked, old.address_detail_masked) == MASKED
    monkeypatch.setenv("ORDER_BUYER_DATA_KEYS", "test:b21uaS1vcmRlci10ZXN0cy1idXllci1kYXRhLWtleTE=")
    async with client_for(db) as c:
        admin = (await c.get("/orders/O-OLD", headers={"X-Omni-Role": "admin"})).json()
        ops = (await c.get("/orders/O-OLD", headers={"X-Omni-Role": "operations"})).json()
    assert _receiver(admin) == PLAIN and _receiver(ops) == MASKED


async def test_a_store_sees_only_its_own_orders_and_its_pickups_in_full(make_database):
    """store_staff (X-Omni-Node-Scope = its store, set by the gateway): a pickup at its store in full, an
    order allocated to it masked, any other order 404 (as if it did not exist)."""
    db = await order_database(make_database)
    await project(db, product_events())
    pickup = channel_order(delivery="store_pickup", pickup_node="STORE-SH-01")
    (mine, other) = (await take_in(db, [envelope(pickup), envelope(channel_order())])).accepted
    staff = {"X-Omni-Role": "store_staff", "X-Omni-Node-Scope": "STORE-SH-01"}
    elsewhere = {"X-Omni-Role": "store_staff", "X-Omni-Node-Scope": "STORE-BJ-01"}
    async with client_for(db) as c:
        seen = await c.get(f"/orders/{mine}", headers=staff)
        assert seen.status_code == 200 and _receiver(seen.json()) == PLAIN
        assert (await c.get(f"/orders/{mine}", headers=elsewhere)).status_code == 404
        assert (await c.get(f"/orders/{other}", headers=staff)).status_code == 404
        by_channel = await c.get(f"/orders/by-channel/tmall/{pickup.channel_order_id}", headers=elsewhere)
        assert by_channel.status_code == 404
        await scalar(
            db,
            "INSERT INTO order_line_allocations (line_id, task_id, order_id, node_code, reservation_id, qty, "
            "allocated_at) SELECT line_id, 'T1', order_id, 'STORE-SH-01', 'R1', qty, now() FROM order_lines "
            "WHERE order_id = :o RETURNING 1",
            o=other,
        )
        shipped_from_store = await c.get(f"/orders/{other}", headers=staff)
        assert shipped_from_store.status_code == 200 and _receiver(shipped_from_store.json()) == MASKED
        assert (await c.get(f"/orders/{other}", headers={"X-Omni-Role": "store_staff"})).status_code == 404


async def test_reseal_through_the_api_is_for_an_admin_and_pages_to_the_end(make_database):
    db = await order_database(make_database)
    await project(db, product_events())
    await take_in(db, [envelope(channel_order()) for _ in range(3)])
    async with client_for(db) as c:
        refused = await c.post("/buyer-data/reseal", json={}, headers={"X-Omni-Role": "operations"})
        assert refused.status_code == 403
        bad = await c.post("/buyer-data/reseal", json={"limit": 0}, headers={"X-Omni-Role": "admin"})
        assert bad.status_code == 422
        first = await c.post("/buyer-data/reseal", json={"limit": 2}, headers={"X-Omni-Role": "admin"})
        assert first.status_code == 200, first.text
        body = first.json()
        assert (body["scanned"], body["resealed"], body["key_id"]) == (2, 0, "test") and body["next_after"]
        rest = await c.post(
            "/buyer-data/reseal",
            json={"limit": 2, "after": body["next_after"]},
            headers={"X-Omni-Role": "admin"},
        )
        assert (rest.json()["scanned"], rest.json()["next_after"]) == (1, None)
