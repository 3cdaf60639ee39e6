"""Settings from the environment and loading the keys (file and/or env)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from omni_gateway.app import Settings, build, load_keys
from omni_gateway.domain.keys import KeyConfigError, hash_key

DEV_KEYS_FILE = Path(__file__).resolve().parents[2] / "dev-api-keys.json"


def test_upstreams_and_limits_come_from_gateway_env(monkeypatch):
    monkeypatch.setenv("GATEWAY_PRODUCT_URL", "http://product.internal:9001")
    monkeypatch.setenv("GATEWAY_RATE_PER_S", "5")
    monkeypatch.setenv("GATEWAY_HTTP_PORT", "18000")
    s = Settings()
    assert s.upstreams()["product"] == "http://product.internal:9001"
    assert s.upstreams()["channel"] == "http://127.0.0.1:8006"
    assert (s.rate_per_s, s.http_port) == (5.0, 18000)
    assert {"GATEWAY_PRODUCT_URL", "GATEWAY_API_KEYS_FILE", "GATEWAY_HTTP_PORT"} <= Settings.env_names()


def test_keys_from_the_file_and_the_env_are_combined(tmp_path):
    f = tmp_path / "keys.json"
    f.write_text(json.dumps([{"name": "a", "key_sha256": hash_key("ka"), "role": "admin"}]))
    env = json.dumps([{"name": "b", "key_sha256": hash_key("kb"), "role": "finance"}])
    ring = load_keys(Settings(api_keys_file=str(f), api_keys=env))
    assert ring.lookup("ka").role == "admin" and ring.lookup("kb").role == "finance"
    assert len(load_keys(Settings(api_keys_file=str(DEV_KEYS_FILE), api_keys=None))) == 5
    assert len(load_keys(Settings(api_keys_file=None, api_keys=None))) == 0


def test_a_bad_key_configuration_stops_the_gateway_with_a_reason(tmp_path):
    with pytest.raises(KeyConfigError, match="cannot read it"):
        build(Settings(api_keys_file=str(tmp_path / "missing.json"), api_keys=None))
    with pytest.raises(KeyConfigError, match="GATEWAY_API_KEYS: key 'x': role 'boss'"):
        build(
            Settings(
                api_keys_file=None,
                api_keys=json.dumps([{"name": "x", "key_sha256": "0" * 64, "role": "boss"}]),
            )
        )
