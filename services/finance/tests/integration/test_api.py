"""Finance's REST API on a real database (the app's lifespan runs, without consumers on the shared topics)."""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

import httpx
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from omni_finance import app as app_mod
from omni_finance import consumers, service, store
from omni_finance.domain.accounts import CHART

sys.path.insert(0, str(Path(__file__).parent))
from finance_factories import ALL_LINES, GOODS, MIGRATIONS, accepted, cancelled, shipped, uid, uow

pytestmark = pytest.mark.integration


@pytest.fixture
async def db(make_database):
    return await make_database("finance_api", migrations=MIGRATIONS)


@pytest.fixture
async def client(db, monkeypatch):
    monkeypatch.setattr(consumers, "specs", lambda: [])  # no consumer group on the shared topics in tests
    app = app_mod.build(app_mod.Settings(service_database_url=db.dsn))
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
    ):
        yield c


async def _book(db, *, orders: int = 1, ship: bool = True, cancel: bool = False) -> list[str]:
    ids = [uid("O") for _ in range(orders)]
    await service.handle_order_events(uow(db), [accepted(o) for o in ids])
    if ship:
        await service.handle_shipments(uow(db), [shipped(o, ALL_LINES) for o in ids])
    if cancel:
        await service.handle_order_events(uow(db), [cancelled(o) for o in ids])
    return ids


async def test_the_migration_creates_exactly_the_tables_of_the_store(db):
    chassis = {"outbox", "inbox", "parked", "timers", "alembic_version", "alembic_version_chassis"}

    def ours(name, type_, parents):
        table = name if type_ == "table" else parents.get("table_name")
        return table not in chassis

    def diff(conn):
        ctx = MigrationContext.configure(conn, opts={"compare_type": True, "include_name": ours})
        return compare_metadata(ctx, store.metadata)

    async with db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_accounts_are_the_seeded_chart(client):
    r = await client.get("/accounts")
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == len(CHART) and body["limit"] == 50 and body["offset"] == 0
    assert [(a["code"], a["name"], a["type"], a["normal_side"]) for a in body["items"]] == [
        (a.code, a.name, a.type.value, a.normal_side.value) for a in CHART.values()
    ]
    page = (await client.get("/accounts", params={"limit": 2, "offset": 2})).json()
    assert [a["code"] for a in page["items"]] == ["1012", "1122"]


async def test_vouchers_of_an_order_and_one_voucher(db, client):
    [oid] = await _book(db)
    r = await client.get(f"/orders/{oid}/vouchers")
    assert r.status_code == 200
    body = r.json()
    assert body["total"] == 2 and [v["kind"] for v in body["items"]] == ["sale", "revenue"]
    sale = body["items"][0]
    assert sale["total_cents"] == GOODS + 1000 and sale["currency"] == "CNY" and sale["order_id"] == oid
    assert [
        (x["account_code"], x["account_name"], x["debit_cents"], x["credit_cents"]) for x in sale["lines"]
    ] == [
        ("1122", "应收账款-平台", GOODS + 1000, 0),
        ("2205", "合同负债", 0, GOODS),
        ("2206", "合同负债-运费", 0, 1000),
    ]
    one = await client.get(f"/vouchers/{sale['voucher_id']}")
    assert one.status_code == 200 and one.json() == sale
    only_revenue = (await client.get("/vouchers", params={"order_id": oid, "kind": "revenue"})).json()
    assert [v["kind"] for v in only_revenue["items"]] == ["revenue"] and only_revenue["total"] == 1


async def test_not_found_and_bad_input_are_clear_4xx(client):
    r = await client.get(f"/vouchers/{uuid.uuid4()}")
    assert r.status_code == 404 and "not found" in r.json()["detail"]
    r = await client.get("/orders/nope/vouchers")
    assert r.status_code == 404 and "not known to finance" in r.json()["detail"]
    r = await client.get("/vouchers/not-a-uuid")
    assert r.status_code == 422
    r = await client.get("/vouchers", params={"kind": "rebate"})
    assert r.status_code == 422 and "sale" in str(r.json()["detail"])
    for params in ({"limit": 0}, {"limit": 501}, {"offset": -1}):
        assert (await client.get("/vouchers", params=params)).status_code == 422, params
    assert (await client.get("/trial-balance", params={"currency": "yuan"})).status_code == 422


async def test_vouchers_paginate_in_posting_order(db, client):
    ids = await _book(db, orders=3, ship=False)  # three sale vouchers
    seen = []
    for offset in (0, 2):
        page = (await client.get("/vouchers", params={"limit": 2, "offset": offset})).json()
        assert page["total"] == 3 and page["limit"] == 2 and page["offset"] == offset
        seen += [v["order_id"] for v in page["items"]]
    assert seen == ids
    empty = (await client.get("/vouchers", params={"offset": 3})).json()
    assert empty["items"] == [] and empty["total"] == 3


async def test_trial_balance_balances_overall_and_per_order(db, client):
    shipped_ids = await _book(db, orders=2)
    [cancelled_id] = await _book(db, ship=False, cancel=True)
    [open_id] = await _book(db, ship=False)

    tb = (await client.get("/trial-balance")).json()
    assert tb["balanced"] is True and tb["total_debit_cents"] == tb["total_credit_cents"]
    bal = {a["account_code"]: a["balance_cents"] for a in tb["accounts"] if a["balance_cents"]}
    paid = GOODS + 1000
    assert bal == {
        "1122": 3 * paid,  # two shipped and one open still receivable; the cancelled one reversed
        "2205": GOODS,  # the open order's goods are still deferred
        "2206": 1000,
        "6001": 2 * GOODS,
        "6051": 2 * 1000,
    }
    debit_1122 = next(a for a in tb["accounts"] if a["account_code"] == "1122")
    assert debit_1122["debit_cents"] == 4 * paid and debit_1122["credit_cents"] == paid

    one = (await client.get("/trial-balance", params={"order_id": cancelled_id})).json()
    assert one["balanced"] is True and one["order_id"] == cancelled_id
    assert {a["account_code"]: a["balance_cents"] for a in one["accounts"]} == dict.fromkeys(CHART, 0)
    assert one["total_debit_cents"] == 2 * paid
    shipped_one = (await client.get("/trial-balance", params={"order_id": shipped_ids[0]})).json()
    assert {a["account_code"]: a["balance_cents"] for a in shipped_one["accounts"]}["6001"] == GOODS
    assert open_id not in shipped_ids
