"""The receiver's personal data at rest (domain/buyer_data.py): AES-256-GCM under a key ring, masks."""

from __future__ import annotations

import base64

import pytest

from omni_order.app import Settings, build
from omni_order.domain.buyer_data import (
    DETAIL,
    NAME,
    PHONE,
    BuyerDataError,
    kind,
    mask_detail,
    mask_name,
    mask_phone,
    new_key,
    parse_key_ring,
    protect,
)
from omni_order.service import records

K1 = base64.b64encode(b"1" * 32).decode()
K2 = base64.b64encode(b"2" * 32).decode()


def test_a_value_round_trips_and_the_column_holds_no_plaintext():
    ring = parse_key_ring(f"k1:{K1}")
    stored = ring.seal("13800138000", order_id="O1", column=PHONE)
    assert stored.startswith("enc:v1:k1:") and "13800138000" not in stored and kind(stored) == "enc"
    assert ring.open(stored, order_id="O1", column=PHONE) == "13800138000"
    # a fresh nonce each time: the same phone twice is two different ciphertexts
    assert ring.seal("13800138000", order_id="O1", column=PHONE) != stored
    assert ring.open(ring.seal("张三", order_id="O1", column=NAME), order_id="O1", column=NAME) == "张三"


def test_an_unknown_key_id_is_refused_with_the_ids_it_has():
    stored = parse_key_ring(f"old:{K1}").seal("张三", order_id="O1", column=NAME)
    with pytest.raises(BuyerDataError, match=r"key id 'old'.*it has new") as exc:
        parse_key_ring(f"new:{K2}").open(stored, order_id="O1", column=NAME)
    assert "张三" not in str(exc.value) and K1 not in str(exc.value) and K2 not in str(exc.value)


def test_the_same_key_id_with_another_key_cannot_authenticate():
    stored = parse_key_ring(f"k1:{K1}").seal("张三", order_id="O1", column=NAME)
    with pytest.raises(BuyerDataError, match="cannot be authenticated"):
        parse_key_ring(f"k1:{K2}").open(stored, order_id="O1", column=NAME)


def test_a_tampered_ciphertext_is_refused():
    ring = parse_key_ring(f"k1:{K1}")
    stored = ring.seal("文三路 1 号", order_id="O1", column=DETAIL)
    head, ct = stored.rsplit(":", 1)
    raw = bytearray(base64.b64decode(ct))
    raw[0] ^= 1
    tampered = f"{head}:{base64.b64encode(bytes(raw)).decode()}"
    with pytest.raises(BuyerDataError, match="cannot be authenticated"):
        ring.open(tampered, order_id="O1", column=DETAIL)
    with pytest.raises(BuyerDataError, match="not a well-formed"):
        ring.open("enc:v1:k1:only-two-parts", order_id="O1", column=DETAIL)


def test_the_order_id_and_column_are_associated_data():
    ring = parse_key_ring(f"k1:{K1}")
    stored = ring.seal("13800138000", order_id="O1", column=PHONE)
    with pytest.raises(BuyerDataError, match="order O2: receiver_phone cannot be authenticated"):
        ring.open(stored, order_id="O2", column=PHONE)  # moved to another order
    with pytest.raises(BuyerDataError):
        ring.open(stored, order_id="O1", column=NAME)  # moved to another column
    moved = ring.reseal(stored, order_id="O1", column=PHONE, to_order_id="O2")
    assert ring.open(moved, order_id="O2", column=PHONE) == "13800138000"


def test_rotation_the_first_key_encrypts_and_older_ones_still_decrypt():
    old = parse_key_ring(f"k1:{K1}")
    stored = old.seal("张三", order_id="O1", column=NAME)
    rotated = parse_key_ring(f"k2:{K2},k1:{K1}")
    assert rotated.open(stored, order_id="O1", column=NAME) == "张三"
    assert rotated.seal("张三", order_id="O1", column=NAME).startswith("enc:v1:k2:")
    resealed = rotated.reseal(stored, order_id="O1", column=NAME)
    assert (
        resealed.startswith("enc:v1:k2:")
        and parse_key_ring(f"k2:{K2}").open(resealed, order_id="O1", column=NAME) == "张三"
    )


def test_masks():
    assert mask_name("张三") == "张*" and mask_name("欧阳娜娜") == "欧*" and mask_name("") == ""
    assert mask_phone("13800138000") == "138****8000" and mask_phone("12345") == "****"
    assert (
        mask_detail("文三路 1 号 2 单元") == "文三路 ****" and mask_detail("文一西路969号") == "文一西路****"
    )


def test_platform_masked_values_stay_as_they_are_and_are_marked():
    ring = parse_key_ring(f"k1:{K1}")
    cols = protect(ring, "O1", {NAME: "张*", PHONE: "138****8000", DETAIL: "文一西路***"})
    assert cols[NAME] == "masked:张*" and cols[PHONE] == "masked:138****8000" and kind(cols[NAME]) == "masked"
    assert (cols[f"{NAME}_masked"], cols[f"{PHONE}_masked"]) == ("张*", "138****8000")
    assert ring.open(cols[PHONE], order_id="O1", column=PHONE) == "138****8000"


def test_a_legacy_plain_value_reads_as_it_is():
    ring = parse_key_ring(f"k1:{K1}")
    assert kind("13800138000") == "plain" and ring.open("13800138000", order_id="O1", column=PHONE) == (
        "13800138000"
    )


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "ORDER_BUYER_DATA_KEYS is not set"),
        ("  ,  ", "ORDER_BUYER_DATA_KEYS is not set"),
        (K1, "entry #1 is not kid:base64key"),
        (f"bad kid:{K1}", "entry #1 is not kid:base64key"),
        ("k1:not-base64!!", r"entry #1 \(key id 'k1'\): the key is not base64 of 32 bytes"),
        (f"k1:{K1},k2:{base64.b64encode(b'short').decode()}", "entry #2 .*not base64 of 32 bytes"),
        (f"k1:{K1},k1:{K2}", "names key id 'k1' twice"),
    ],
)
def test_a_malformed_key_ring_is_refused_without_showing_a_key(text, message):
    with pytest.raises(BuyerDataError, match=message) as exc:
        parse_key_ring(text)
    assert K1 not in str(exc.value) and K2 not in str(exc.value)


def test_the_ring_never_shows_its_keys():
    ring = parse_key_ring(f"k2:{K2},k1:{K1}")
    assert repr(ring) == "KeyRing(kids=('k2', 'k1'))" and ring.kids == ("k2", "k1")
    assert len(base64.b64decode(new_key())) == 32 and new_key() != new_key()
    settings = Settings(buyer_data_keys=f"k1:{K1}")
    assert K1 not in repr(settings) and K1 not in str(settings.model_dump())


@pytest.mark.parametrize("keys", ["", "k1:short"])
def test_the_service_does_not_start_without_a_well_formed_key_ring(keys):
    before = records.buyer_keys()
    try:
        with pytest.raises(BuyerDataError, match="ORDER_BUYER_DATA_KEYS"):
            build(Settings(buyer_data_keys=keys, consumers_enabled=False))
    finally:
        records.use_buyer_keys(before)


def test_main_stops_with_the_reason(monkeypatch):
    from omni_order import app

    monkeypatch.setenv("ORDER_BUYER_DATA_KEYS", "")
    before = records.buyer_keys()
    try:
        with pytest.raises(SystemExit, match="order service not started: ORDER_BUYER_DATA_KEYS is not set"):
            app.main()
    finally:
        records.use_buyer_keys(before)


def test_without_a_key_ring_in_the_process_nothing_is_stored_plain():
    before = records.buyer_keys()
    records.use_buyer_keys(None)
    try:
        with pytest.raises(BuyerDataError, match="no buyer data key ring"):
            records.sealed_receiver("O1", "张三", "13800138000", "文三路")
    finally:
        records.use_buyer_keys(before)
