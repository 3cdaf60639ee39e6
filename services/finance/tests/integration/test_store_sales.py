"""Store sales on real PostgreSQL: the seeded accounts and voucher kinds of finance0002 take a store sale's
voucher and a till return's reversal; the same sale again posts nothing; the API lists them by document."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1] / "unit"))
from finance_factories import MIGRATIONS, rows, uid, uow, vouchers_of
from test_store_sales import StorePayment, StoreReturnLine, StoreReturnRecordedV1, sale

from omni_finance.service_store_sales import handle_store_sales

pytestmark = pytest.mark.integration


@pytest.fixture
async def db(make_database):
    return await make_database("finance_pos", migrations=MIGRATIONS)


async def test_sale_return_and_repeat_on_real_postgres(db):
    u, r = uid("U"), uid("R")
    pays = [StorePayment(method="cash", pos_method="journal_id:5", amount_cents=330000)]
    await handle_store_sales(uow(db), [sale(u, payments=pays, change=400)])
    await handle_store_sales(uow(db), [sale(u, payments=pays, change=400)])  # the same sale again
    assert await vouchers_of(db, f"pos:HZ-01:{u}") == [
        ("store-sale", [("1001", 329600, 0), ("6001", 0, 291681), ("222101", 0, 37919)])
    ]
    back = sale(r, total=19800, tax=2278, cls=StoreReturnRecordedV1, line=StoreReturnLine)
    await handle_store_sales(uow(db), [back])
    assert await vouchers_of(db, f"pos:HZ-01:{r}") == [
        ("store-return", [("6001", 17522, 0), ("222101", 2278, 0), ("1012", 0, 19800)])
    ]
    (n,) = await rows(db, "SELECT count(*) AS n FROM outbox WHERE event_type = 'finance.voucher-posted'")
    assert n.n == 2
