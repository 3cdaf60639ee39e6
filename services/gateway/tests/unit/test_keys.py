"""API keys: only hashes are kept, entries are validated, lookups find the right principal."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from omni_gateway.domain.keys import KeyConfigError, KeyRing, Principal, hash_key, parse_keys, parse_keys_json

DEV_KEYS = Path(__file__).resolve().parents[2] / "dev-api-keys.json"


def entry(name="k", key="secret", role="admin", **extra):
    return {"name": name, "key_sha256": hash_key(key), "role": role, **extra}


def test_hash_is_sha256_hex():
    assert hash_key("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"


def test_lookup_finds_the_principal_of_the_key_and_nothing_else():
    ring = KeyRing(
        parse_keys(
            [
                entry("ops", "k-ops", "operations"),
                entry("sh01", "k-sh01", "store_staff", node_code="STORE-SH-01"),
            ],
            "test",
        )
    )
    assert ring.lookup("k-ops") == Principal("ops", "operations", None)
    assert ring.lookup("k-sh01") == Principal("sh01", "store_staff", "STORE-SH-01")
    assert ring.lookup("k-ops ") is None
    assert ring.lookup(hash_key("k-ops")) is None  # the stored hash is not itself a key
    assert ring.lookup("") is None


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"name": "x"}, "expected a JSON list"),
        (["x"], "expected an object"),
        ([{**entry(), "name": " "}], "'name' must be a non-empty string"),
        ([{**entry(), "key_sha256": "abc"}], "64 lowercase hex"),
        ([{**entry(), "key_sha256": hash_key("x").upper()}], "64 lowercase hex"),
        ([entry(role="root")], "role 'root' is not one of"),
        ([entry(role="store_staff")], "needs a 'node_code'"),
        ([entry(role="admin", node_code="STORE-SH-01")], "only store_staff keys take a 'node_code'"),
        ([{**entry(), "key": "plaintext"}], "unknown fields ['key']"),
    ],
)
def test_malformed_entries_are_refused_with_a_reason(raw, message):
    with pytest.raises(KeyConfigError) as err:
        parse_keys(raw, "keys.json")
    assert message in str(err.value)
    assert str(err.value).startswith("keys.json")


def test_duplicates_are_refused():
    with pytest.raises(KeyConfigError, match="duplicate key names: a"):
        KeyRing(parse_keys([entry("a", "k1"), entry("a", "k2")], "t"))
    with pytest.raises(KeyConfigError, match="same key_sha256"):
        KeyRing(parse_keys([entry("a", "k1"), entry("b", "k1")], "t"))


def test_invalid_json_is_refused():
    with pytest.raises(KeyConfigError, match="not valid JSON"):
        parse_keys_json("[{", "GATEWAY_API_KEYS")


def test_the_dev_key_file_holds_only_hashes_of_the_documented_demo_keys():
    text = DEV_KEYS.read_text()
    ring = KeyRing(parse_keys_json(text, str(DEV_KEYS)))
    expected = {
        "dev-admin-key": ("admin", None),
        "dev-ops-key": ("operations", None),
        "dev-store-sh01-key": ("store_staff", "STORE-SH-01"),
        "dev-finance-key": ("finance", None),
        "dev-channel-key": ("channel", None),
    }
    for plaintext, (role, node) in expected.items():
        p = ring.lookup(plaintext)
        assert p is not None and (p.role, p.node_code) == (role, node), plaintext
    for item in json.loads(text):
        assert "key" not in item and "plaintext" not in item
        assert "DEVELOPMENT ONLY" in item["comment"]
