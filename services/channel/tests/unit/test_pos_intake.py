"""The POS intake's use cases (service/pos.py) on an in-memory unit of work: the till's shop signature, the
store config, products resolved through the POS listings, one event per sale uid, each order on its own."""

from __future__ import annotations

import copy
import sys
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from pos_fakes import FakePosRepository, body_of, sign
from pos_samples import V16, till_return, v12

from omni_channel import service
from omni_channel.domain.errors import Unauthorized
from omni_channel.service import pos
from omni_chassis.uow import FakeUnitOfWork

NOW = datetime(2025, 6, 12, 3, 0, tzinfo=UTC)
SECRET = "till-secret-1"


@pytest.fixture
def repo() -> FakePosRepository:
    return FakePosRepository()


def uow(repo: FakePosRepository) -> FakeUnitOfWork:
    return FakeUnitOfWork(repo)


def listing(listing_id: str, item: str, outer: str | None, product: str, version: int = 1, status="on_sale"):
    data = SimpleNamespace(
        listing_id=listing_id,
        channel="pos",
        shop_id="HZ-01",
        channel_item_id=item,
        outer_id=outer,
        sales_product_code=product,
        status=status,
        version=version,
    )
    return SimpleNamespace(event_type="product.channel-listing.upserted", data=data)


@pytest.fixture
async def store(repo) -> None:
    await service.put_shop(
        uow(repo), channel="pos", shop_id="HZ-01", name="杭州店", app_key="odoo", secret=SECRET, active=True
    )
    await pos.put_store(
        uow(repo),
        shop_id="HZ-01",
        node_code="STORE-HZ",
        payment_methods={"payment_method_id:2": "wechat", "journal_id:5": "cash"},
        now=NOW,
    )
    await pos.project_listings(
        uow(repo),
        [listing("L1", "501", "SET-COFFEE-PRO", "SP-SET"), listing("L2", "502", "BEAN-ETH-500", "SP-BEAN")],
    )


async def call(repo, orders, *, secret=SECRET, shop="HZ-01") -> tuple[pos.Batch, FakeUnitOfWork]:
    body = body_of(orders)
    u = uow(repo)
    batch = await pos.receive_pos_orders(u, shop_id=shop, signature=sign(secret, body), body=body, now=NOW)
    return batch, u


async def test_a_sale_is_published_once_with_the_store_node_and_reallocated_fen(repo, store):
    batch, u = await call(repo, [V16])
    assert [a.outcome for a in batch.answers] == ["accepted"]
    (env,) = u.of_type("channel.store-sale.recorded")
    assert env.key == "pos:HZ-01:00012-003-0045"
    e = env.data
    assert (e.shop_id, e.node_code, e.sale_uid, e.total_cents, e.tax_cents) == (
        "HZ-01",
        "STORE-HZ",
        "00012-003-0045",
        329600,
        37919,
    )
    assert [(x.sales_product_code, x.qty, x.paid_cents, x.discount_cents) for x in e.lines] == [
        ("SP-SET", 1, 300775, 9125),
        ("SP-BEAN", 3, 28825, 875),
    ]
    assert [(p.method, p.pos_method, p.amount_cents) for p in e.payments] == [
        ("wechat", "payment_method_id:2", 329600)
    ]
    again, u2 = await call(repo, [V16])
    assert [a.outcome for a in again.answers] == ["duplicate"] and u2.published == []


async def test_v12_resolves_by_product_id_and_maps_the_journal(repo, store):
    _, u = await call(repo, [v12()])
    (env,) = u.of_type("channel.store-sale.recorded")
    assert [x.sales_product_code for x in env.data.lines] == ["SP-SET", "SP-BEAN"]
    assert [(p.method, p.amount_cents) for p in env.data.payments] == [("cash", 330000)]
    assert env.data.change_cents == 400


async def test_a_till_return_is_its_own_event(repo, store):
    _, u = await call(repo, [till_return()])
    (env,) = u.of_type("channel.store-return.recorded")
    assert [(x.sales_product_code, x.qty, x.paid_cents, x.refunded_line_ref) for x in env.data.lines] == [
        ("SP-BEAN", 2, 19800, "4411")
    ]
    assert u.of_type("channel.store-sale.recorded") == []


async def test_default_code_resolves_when_the_product_id_is_not_listed(repo, store):
    o = copy.deepcopy(V16)
    o["data"]["lines"][0][2]["product_id"] = 7777  # another Odoo database: same default_code
    _, u = await call(repo, [o])
    assert u.of_type("channel.store-sale.recorded")[0].data.lines[0].sales_product_code == "SP-SET"


async def test_each_order_is_answered_on_its_own(repo, store):
    unknown = copy.deepcopy(V16)
    unknown["id"] = unknown["data"]["uid"] = "00012-003-0046"
    line = unknown["data"]["lines"][1][2]
    line["product_id"], line["full_product_name"] = 999, "[NOPE] ?"
    bad_tender = copy.deepcopy(till_return())
    bad_tender["data"]["statement_ids"][0][2]["payment_method_id"] = 9
    batch, u = await call(repo, [V16, unknown, bad_tender])
    assert [a.outcome for a in batch.answers] == ["accepted", "problem", "problem"]
    assert batch.answers[1].problems[0].path == "orders[1].data.lines[1].product_id"
    assert "product 999 [NOPE] is unknown" in batch.answers[1].problems[0].message
    assert batch.answers[2].problems[0].path == "orders[2].data.statement_ids[0][2].payment_method_id"
    assert len(u.published) == 1
    assert not await repo.pos_sale_seen("HZ-01:00012-003-0046")


async def test_an_off_sale_listing_is_refused(repo, store):
    await pos.project_listings(uow(repo), [listing("L2", "502", "BEAN-ETH-500", "SP-BEAN", 2, "off_sale")])
    batch, _ = await call(repo, [V16])
    assert "is off sale" in batch.answers[0].problems[0].message
    await pos.project_listings(
        uow(repo), [listing("L2", "502", "BEAN-ETH-500", "SP-BEAN", 1)]
    )  # stale: ignored
    assert (await call(repo, [V16]))[0].answers[0].outcome == "problem"


async def test_a_shop_without_store_config_is_a_problem_per_order(repo):
    await service.put_shop(
        uow(repo), channel="pos", shop_id="HZ-01", name="x", app_key="odoo", secret=SECRET, active=True
    )
    batch, _ = await call(repo, [V16])
    assert batch.answers[0].problems[0].path == "X-Pos-Shop"


@pytest.mark.parametrize(
    ("secret", "shop", "fragment"),
    [
        ("wrong-secret", "HZ-01", "bad signature"),
        (SECRET, "NOPE", "unknown shop"),
        (SECRET, "", "X-Pos-Shop"),
    ],
)
async def test_a_bad_signature_or_shop_is_unauthorized_and_nothing_is_published(
    repo, store, secret, shop, fragment
):
    with pytest.raises(Unauthorized, match=fragment):
        await call(repo, [V16], secret=secret, shop=shop)
    assert repo.receipts == {}


async def test_store_config_validates_tenders_and_needs_the_shop(repo, store):
    with pytest.raises(pos.InvalidStore) as bad:
        await pos.put_store(
            uow(repo), shop_id="HZ-01", node_code="S", payment_methods={"2": "bitcoin"}, now=NOW
        )
    assert {p.path for p in bad.value.problems} == {"payment_methods.2"}
    with pytest.raises(pos.StoreNotFound):
        await pos.put_store(uow(repo), shop_id="NOPE", node_code="S", payment_methods={}, now=NOW)


async def test_the_same_uid_twice_in_one_call_is_taken_once(repo, store):
    batch, u = await call(repo, [V16, V16])
    assert [a.outcome for a in batch.answers] == ["accepted", "duplicate"] and len(u.published) == 1
