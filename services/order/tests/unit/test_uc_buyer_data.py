"""The receiver through the use cases on the fake: stored sealed with masks, opened for fulfillment and the
dry-run, shown masked or in full by role (docs/buyer-data.md)."""

from __future__ import annotations

import logging

import pytest
from order_factories import channel_order, envelope
from order_journeys import accepted_order
from structlog.testing import capture_logs

from omni_contracts.events.channel import Address
from omni_order import service
from omni_order.api_models import OrderDetail
from omni_order.api_views import Viewer, present
from omni_order.domain.buyer_data import BuyerDataError
from omni_order.service.records import receiver_moved, ship_to, trade_from_rows

PLAIN = ("张三", "13800000000", "文三路 1 号")


async def test_intake_stores_the_receiver_sealed_with_its_masks_and_ships_it_in_full():
    uow, oid = await accepted_order()
    row = uow.repo.orders[oid]
    for column in ("receiver_name", "receiver_phone", "address_detail"):
        assert row[column].startswith("enc:v1:test:"), column
    assert not {v for v in row.values() if isinstance(v, str)} & set(PLAIN)
    masks = (row["receiver_name_masked"], row["receiver_phone_masked"], row["address_detail_masked"])
    assert masks == ("张*", "138****0000", "文三路 ****")
    (accepted,) = uow.of_type("order.accepted")
    ship = accepted.data.ship_to
    assert (ship.name, ship.phone, ship.detail) == ("张三", "13800000000", "文三路 1 号")
    trade = trade_from_rows(row, await uow.repo.channel_lines(oid))  # the dry-run's and retry's trade
    assert (trade.receiver.name, trade.receiver.phone, trade.receiver.detail) == PLAIN


@pytest.mark.parametrize(
    ("viewer", "full"),
    [
        (Viewer(), False),
        (Viewer("operations"), False),
        (Viewer("finance"), False),
        (Viewer("channel"), False),
        (Viewer("admin"), True),
    ],
)
async def test_the_view_is_masked_unless_the_role_may_see_it(viewer, full):
    uow, oid = await accepted_order()
    view = present(await service.get_order(uow, oid), viewer)
    OrderDetail.model_validate(view)
    address = view["logistics"]["address"]
    got = (address["name"], address["phone"], address["detail"])
    assert got == (PLAIN if full else ("张*", "138****0000", "文三路 ****")) and address["masked"] is not full
    assert address["city"] == "杭州市" and address["district"] == "西湖区"


async def test_a_store_sees_its_own_pickup_orders_in_full_and_no_other():
    uow, oid = await accepted_order(delivery="store_pickup", pickup_node="ST-1")
    record = await service.get_order(uow, oid)
    assert present(record, Viewer("store_staff", "ST-1"))["logistics"]["address"]["phone"] == "13800000000"
    for other in (Viewer("store_staff", "ST-2"), Viewer("store_staff"), Viewer("operations", "ST-1")):
        assert present(record, other)["logistics"]["address"]["phone"] == "138****0000", other
    uow, oid = await accepted_order()  # shipped by express: no store sees it in full
    record = await service.get_order(uow, oid)
    assert present(record, Viewer("store_staff", "ST-1"))["logistics"]["address"]["masked"] is True


async def test_a_platform_masked_receiver_is_kept_as_the_platform_sent_it_and_marked():
    receiver = Address(name="张*", phone="138****8000", state="浙江省", city="杭州市", district="西湖区",
                       detail="文三路***")  # fmt: skip
    uow, oid = await accepted_order(receiver=receiver)
    row = uow.repo.orders[oid]
    assert (row["receiver_name"], row["receiver_phone"]) == ("masked:张*", "masked:138****8000")
    address = present(await service.get_order(uow, oid), Viewer("admin"))["logistics"]["address"]
    assert (address["name"], address["phone"], address["masked"]) == ("张*", "138****8000", True)
    assert uow.of_type("order.accepted")[0].data.ship_to.phone == "138****8000"


async def test_a_value_cannot_be_moved_to_another_order_except_by_resealing():
    uow, oid = await accepted_order()
    row = uow.repo.orders[oid]
    with pytest.raises(BuyerDataError, match="cannot be authenticated"):
        ship_to(row | {"order_id": "O-OTHER"})
    moved = row | {"order_id": "O-OTHER"} | receiver_moved(row, "O-OTHER")  # what a reship's new order does
    assert ship_to(moved).phone == "13800000000"


async def test_a_legacy_plain_row_reads_and_shows_masked():
    uow, oid = await accepted_order()
    row = uow.repo.orders[oid]
    row.update(
        receiver_name="张三", receiver_phone="13800000000", address_detail="文三路 1 号"
    )  # before order0010
    assert ship_to(row).phone == "13800000000"
    assert present(await service.get_order(uow, oid))["logistics"]["address"]["phone"] == "138****0000"


async def test_no_log_record_of_intake_a_view_or_a_cancel_carries_the_receiver(caplog, capsys):
    caplog.set_level(logging.DEBUG)
    with capture_logs() as captured:
        uow, oid = await accepted_order()
        await service.intake(uow, [envelope(channel_order(shop_id="S9"))])  # an exception, logged
        present(await service.get_order(uow, oid), Viewer("admin"))
        await service.cancel(uow, oid, "buyer changed their mind")
    # structlog's records (captured, or rendered to stderr by a logger cached before), stdlib's records
    out = capsys.readouterr()
    logged = repr(captured) + out.err + out.out + caplog.text
    assert "channel orders taken in" in logged  # the capture saw intake's own record
    for secret in (*PLAIN, "文三路", "13800000000"):
        assert secret not in logged


async def test_reseal_moves_every_receiver_to_the_newest_key_page_by_page_and_seals_legacy_values():
    import os

    from omni_order.domain.buyer_data import new_key, parse_key_ring
    from omni_order.service import records

    uow, first = await accepted_order()
    (second,) = (await service.intake(uow, [envelope(channel_order())])).accepted
    legacy = uow.repo.orders[second]
    legacy["receiver_phone"] = "13800000000"  # a row written before order0010 by a migration without the key
    legacy["receiver_name"] = "masked:张*"  # a platform mask: nothing to seal
    old = os.environ["ORDER_BUYER_DATA_KEYS"]
    records.use_buyer_keys(parse_key_ring(f"new:{new_key()},{old}"))
    try:
        pages, after = [], None
        while True:
            page = await service.reseal_page(uow, after=after, limit=1)
            pages.append((page["scanned"], page["resealed"]))
            if page["next_after"] is None:
                break
            after = page["next_after"]
        assert pages[:2] == [(1, 1), (1, 1)] and sum(s for s, _ in pages) == 2
        for oid in (first, second):
            row = uow.repo.orders[oid]
            opened = records.receiver(row)
            assert opened["receiver_phone"] == "13800000000" and opened["address_detail"] == "文三路 1 号"
        assert uow.repo.orders[first]["receiver_name"].startswith("enc:v1:new:")
        assert uow.repo.orders[second]["receiver_phone"].startswith("enc:v1:new:")
        assert uow.repo.orders[second]["receiver_name"] == "masked:张*"
        again = await service.reseal_page(uow, after=None, limit=10)
        assert (again["scanned"], again["resealed"], again["next_after"]) == (2, 0, None)
    finally:
        records.use_buyer_keys(parse_key_ring(old))
