"""channel.order.received v2 (the protected receiver, per-line refund status, presale stage) is taken in
like v1, and a v1 on the topic is read as v2 (upcast)."""

from __future__ import annotations

from order_factories import channel_order, envelope, product_events
from order_fakes import fake_uow

from omni_contracts import decode
from omni_contracts.events.channel import ChannelOrderLineV2, ChannelOrderReceivedV2, ProtectedReceiver
from omni_order import service


def v2_order() -> ChannelOrderReceivedV2:
    v1 = channel_order()
    data = v1.model_dump()
    data["lines"] = [
        ChannelOrderLineV2(**ln.model_dump(), refund_status="requested", platform_refund_status="2")
        for ln in v1.lines
    ]
    return ChannelOrderReceivedV2(
        **{**data, "channel": "pdd"},
        protected_receiver=ProtectedReceiver(
            merge_key="1a2b3c",
            merge_key_kind="open_address_id",
            name_cipher="~abc~def~0~~",
            name_mask="林*坤",
        ),
        presale_stage="final_paid",
        seller_memo="memo",
    )


def wire(env):  # through the bytes a consumer meets
    return decode(env.model_dump_json().encode())


async def test_a_v2_order_is_taken_in_like_v1():
    uow = fake_uow()
    catalog = [  # the listings of the pdd shop
        e.model_copy(update={"channel": "pdd"}) if getattr(e, "channel", None) == "tmall" else e
        for e in product_events()
    ]
    await service.project_catalog(uow, [envelope(e) for e in catalog])
    trade = wire(envelope(v2_order()))
    assert trade.event_version == 2 and trade.data.protected_receiver.merge_key == "1a2b3c"
    result = await service.intake(uow, [trade])
    (order_id,) = result.accepted
    assert uow.repo.orders[order_id]["goods_paid_cents"] == 329_600
    # the platform's ciphertext is kept as sent (only the platform decrypts it), beside Omni's sealed columns
    assert uow.repo.orders[order_id]["platform_receiver"] == {
        "name_cipher": "~abc~def~0~~",
        "merge_key_kind": "open_address_id",
    }


async def test_an_order_without_platform_ciphertexts_keeps_none():
    uow = fake_uow()
    await service.project_catalog(uow, [envelope(e) for e in product_events()])
    (order_id,) = (await service.intake(uow, [envelope(channel_order())])).accepted
    assert uow.repo.orders[order_id]["platform_receiver"] is None


def test_a_v1_order_on_the_topic_reads_as_v2():
    env = wire(envelope(channel_order()))
    assert env.event_version == 2 and isinstance(env.data, ChannelOrderReceivedV2)
    assert env.data.protected_receiver is None and env.data.presale_stage == "none"
    assert all(ln.refund_status == "none" for ln in env.data.lines)
