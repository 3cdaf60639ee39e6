"""Store sales booked at once (domain/store_sales.py, service_store_sales.py): the till's tenders debited, the
change netted off the cash, revenue and output VAT credited; a till return reversed; one voucher per sale."""

from __future__ import annotations

import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from finance_fakes import FakeRepository

from omni_chassis.consumer import PermanentError
from omni_chassis.uow import FakeUnitOfWork
from omni_contracts import make_envelope
from omni_contracts.events.store_sales import (
    StorePayment,
    StoreReturnLine,
    StoreReturnRecordedV1,
    StoreSaleLine,
    StoreSaleRecordedV1,
)
from omni_finance.domain.store_sales import TENDER_ACCOUNTS
from omni_finance.service_store_sales import handle_store_sales

AT = datetime(2025, 6, 12, 2, 15, 30, tzinfo=UTC)


class FakeStoreSalesRepo(FakeRepository):
    async def posted_vouchers(self, ids) -> set:
        return {v.voucher_id for v in self.vouchers} & set(ids)

    async def add_vouchers(self, posted) -> None:
        self.vouchers.extend(posted)


def tender(method: str, cents: int) -> StorePayment:
    return StorePayment(method=method, pos_method=f"payment_method_id:{cents % 7}", amount_cents=cents)


def sale(
    uid="U1", payments=None, change=0, total=329600, tax=37919, cls=StoreSaleRecordedV1, line=StoreSaleLine
):
    lines = [line(line_id="1", sales_product_code="SP", pos_product_id="501", qty=1, unit_price_cents=total,
                  paid_cents=total)]  # fmt: skip
    pays = payments if payments is not None else [tender("wechat", total)]
    data = cls(shop_id="HZ-01", node_code="STORE-HZ", sale_uid=uid, lines=lines, total_cents=total,
               tax_cents=tax, payments=pays, change_cents=change, occurred_at=AT, received_at=AT)  # fmt: skip
    return make_envelope(data, producer="channel", key=f"pos:HZ-01:{uid}")


async def book(repo, *envs) -> FakeUnitOfWork:
    uow = FakeUnitOfWork(repo)
    await handle_store_sales(uow, list(envs))
    return uow


def lines_of(v) -> list[tuple[str, int, int]]:
    return [(x.account_code, x.debit_cents, x.credit_cents) for x in v.lines]


async def test_a_sale_is_booked_at_once_and_balanced():
    repo = FakeStoreSalesRepo()
    uow = await book(repo, sale())
    (v,) = repo.vouchers
    assert (v.kind.value, v.order_id, v.total_cents) == ("store-sale", "pos:HZ-01:U1", 329600)
    assert lines_of(v) == [("1012", 329600, 0), ("6001", 0, 291681), ("222101", 0, 37919)]
    (ev,) = uow.of_type("finance.voucher-posted")
    assert ev.key == "pos:HZ-01:U1" and ev.data.source_event_type == "channel.store-sale.recorded"
    assert repo.orders == {}  # not an order: no order projection


async def test_cash_change_is_netted_and_split_tenders_merge_per_account():
    repo = FakeStoreSalesRepo()
    pays = [tender("cash", 300000), tender("bank_card", 20000), tender("unionpay", 10000)]
    await book(repo, sale(payments=pays, change=400))
    assert lines_of(repo.vouchers[0])[:2] == [("1001", 299600, 0), ("1002", 30000, 0)]


async def test_change_without_cash_tendered_is_a_credit_to_cash():
    repo = FakeStoreSalesRepo()
    await book(repo, sale(payments=[tender("voucher", 330000)], change=400))
    assert lines_of(repo.vouchers[0])[:2] == [("1001", 0, 400), ("2203", 330000, 0)]


async def test_a_till_return_books_the_reversal():
    repo = FakeStoreSalesRepo()
    await book(repo, sale("R1", total=19800, tax=2278, cls=StoreReturnRecordedV1, line=StoreReturnLine))
    (v,) = repo.vouchers
    assert v.kind.value == "store-return"
    assert lines_of(v) == [("6001", 17522, 0), ("222101", 2278, 0), ("1012", 0, 19800)]


async def test_the_same_sale_twice_posts_one_voucher():
    repo = FakeStoreSalesRepo()
    await book(repo, sale())
    again = await book(repo, sale(), sale())  # new events for the same sale
    assert len(repo.vouchers) == 1 and again.published == []


async def test_a_free_sale_posts_nothing():
    repo = FakeStoreSalesRepo()
    await book(repo, sale(total=0, tax=0, payments=[]))
    assert repo.vouchers == []


@pytest.mark.parametrize(
    ("payments", "change", "fragment"),
    [([tender("wechat", 100)], 0, "are not the total"), ([tender("bitcoin", 329600)], 0, "has no account")],
)
async def test_unbookable_sales_are_permanent_errors(payments, change, fragment):
    repo = FakeStoreSalesRepo()
    with pytest.raises(PermanentError, match=fragment):
        await book(repo, sale(payments=payments, change=change))
    assert repo.vouchers == []


def test_every_tender_of_the_channel_has_an_account():
    from omni_finance.domain.accounts import CHART

    assert set(TENDER_ACCOUNTS) == {"cash", "bank_card", "wechat", "alipay", "unionpay", "voucher", "other"}
    assert all(a in CHART for a in TENDER_ACCOUNTS.values())
