from __future__ import annotations

import json

import pytest
import structlog

from omni_chassis.consumer import ConsumerSpec
from omni_chassis.logging import configure_logging, mask_value
from omni_chassis.settings import ServiceSettings, asyncpg_url, database_for, plain_url


class OrderSettings(ServiceSettings):
    service_name: str = "order"
    http_port: int = 8003


def test_service_database_defaults_to_its_own_database_on_the_server(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u:p@db.internal:6543/ignored?sslmode=require")
    monkeypatch.delenv("ORDER_DATABASE_URL", raising=False)
    s = OrderSettings()
    assert s.db_url == "postgresql+asyncpg://u:p@db.internal:6543/omni_order?sslmode=require"


def test_per_service_url_and_port_override(monkeypatch):
    monkeypatch.setenv("ORDER_DATABASE_URL", "postgresql://x:y@h:1/orders")
    monkeypatch.setenv("ORDER_HTTP_PORT", "9100")
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "k1:9092,k2:9092")
    s = OrderSettings()
    assert s.db_url == "postgresql+asyncpg://x:y@h:1/orders"
    assert s.http_port == 9100
    assert s.kafka_bootstrap_servers == "k1:9092,k2:9092"
    assert {
        "ORDER_DATABASE_URL",
        "ORDER_HTTP_PORT",
        "KAFKA_BOOTSTRAP_SERVERS",
        "DATABASE_URL",
    } <= OrderSettings.env_names()


def test_url_helpers():
    assert asyncpg_url("postgresql://a@b/c") == "postgresql+asyncpg://a@b/c"
    assert plain_url("postgresql+asyncpg://a@b/c") == "postgresql://a@b/c"
    assert database_for("postgresql://a@b:5/", "omni_x") == "postgresql://a@b:5/omni_x"


def test_logs_are_json_with_context_and_never_carry_phone_or_address(capsys):
    configure_logging("order", "INFO", json=True)
    structlog.contextvars.bind_contextvars(correlation_id="c-1", event_id="e-1")
    try:
        structlog.get_logger().info(
            "order received",
            receiver_mobile="13800138000",
            receiver_address="上海市浦东新区张江路 88 号",
            tid="42",
        )
    finally:
        structlog.contextvars.unbind_contextvars("correlation_id", "event_id")
    line = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert line["correlation_id"] == "c-1" and line["event_id"] == "e-1" and line["service"] == "order"
    assert line["tid"] == "42"
    assert "13800138000" not in json.dumps(line, ensure_ascii=False)
    assert "张江路" not in line["receiver_address"]


def test_mask_value_keeps_only_edges():
    assert mask_value("13800138000") == "13*******00"
    assert mask_value("abc") == "***"


def test_consumer_spec_needs_exactly_one_handler():
    async def h(session, env):
        return None

    with pytest.raises(ValueError, match="exactly one"):
        ConsumerSpec("g", ["t"])
    with pytest.raises(ValueError, match="exactly one"):
        ConsumerSpec("g", ["t"], handler=h, batch_handler=h)


def test_consumers_can_be_switched_off_by_env_or_argument(monkeypatch):
    assert OrderSettings().consumers_enabled is True
    monkeypatch.setenv("OMNI_CONSUMERS_ENABLED", "false")
    assert OrderSettings().consumers_enabled is False
    monkeypatch.delenv("OMNI_CONSUMERS_ENABLED")
    assert OrderSettings(consumers_enabled=False).consumers_enabled is False
