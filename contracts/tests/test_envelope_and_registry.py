from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import Field, ValidationError

from omni_contracts import (
    REGISTRY,
    DecodeError,
    Envelope,
    EventPayload,
    EventRegistry,
    Topic,
    decode,
    dlq_topic,
    make_envelope,
)
from omni_contracts.events.diagnostics import ProbeV1


def probe_env(**kw):
    return make_envelope(ProbeV1(seq=7, sent_at_ns=1), producer="test", key="k1", **kw)


def test_envelope_roundtrip_and_headers():
    env = probe_env(correlation_id="corr-1")
    back = decode(env.to_bytes(), env.headers())
    assert back == env
    assert isinstance(back.data, ProbeV1)
    headers = dict(env.headers())
    assert headers["event_type"] == b"diagnostics.probe"
    assert headers["event_version"] == b"1"
    assert headers["event_id"] == str(env.event_id).encode()
    assert headers["correlation_id"] == b"corr-1"


def test_correlation_defaults_to_event_id_and_time_is_utc():
    env = probe_env()
    assert env.correlation_id == str(env.event_id)
    assert env.occurred_at.tzinfo is not None and env.occurred_at.utcoffset() == timedelta(0)


def test_occurred_at_is_normalised_to_utc_and_naive_rejected():
    cst = timezone(timedelta(hours=8))
    env = make_envelope(
        ProbeV1(seq=1, sent_at_ns=1), producer="t", key="k", occurred_at=datetime(2026, 1, 1, 8, tzinfo=cst)
    )
    assert env.occurred_at == datetime(2026, 1, 1, 0, tzinfo=UTC)
    assert env.occurred_at.tzinfo == UTC
    with pytest.raises(ValidationError):
        Envelope[ProbeV1](
            event_type="diagnostics.probe",
            event_version=1,
            producer="t",
            correlation_id="c",
            key="k",
            occurred_at=datetime(2026, 1, 1),
            data=ProbeV1(seq=1, sent_at_ns=1),
        )


def test_unregistered_payload_cannot_be_wrapped():
    class Loose(EventPayload):
        x: int

    with pytest.raises(TypeError, match="not a registered event payload"):
        make_envelope(Loose(x=1), producer="t", key="k")


@pytest.mark.parametrize(
    ("value", "headers", "message"),
    [
        (b"", None, "empty message"),
        (b"\xff\xfe garbage", None, "not JSON"),
        (b"[1, 2]", None, "JSON list"),
        (b'{"data": {}}', None, "no event_type"),
        (b'{"event_type": "nope.never", "event_version": 1}', None, "unknown event type 'nope.never'"),
        (b'{"event_type": "diagnostics.probe", "event_version": "x"}', None, "not an integer"),
        (b'{"event_type": "diagnostics.probe", "event_version": 9}', None, "newer than this consumer knows"),
    ],
)
def test_decode_names_what_is_wrong(value, headers, message):
    with pytest.raises(DecodeError, match=message):
        decode(value, headers)


def test_decode_lists_invalid_fields():
    body = json.loads(probe_env().to_bytes())
    body["data"]["seq"] = -1
    del body["producer"]
    with pytest.raises(DecodeError) as exc:
        decode(json.dumps(body).encode())
    assert "data.seq" in str(exc.value) and "producer" in str(exc.value)


def test_header_body_disagreement_is_an_error():
    env = probe_env()
    headers = [(k, v) for k, v in env.headers() if k != "event_version"] + [("event_version", b"2")]
    with pytest.raises(DecodeError, match="disagrees"):
        decode(env.to_bytes(), headers)


def _registry_with_v2() -> EventRegistry:
    reg = EventRegistry()

    @reg.event("shop.thing-happened", 1, Topic.DIAGNOSTICS)
    class V1(EventPayload):
        amount_yuan: str

    @reg.event("shop.thing-happened", 2, Topic.DIAGNOSTICS)
    class V2(EventPayload):
        amount_cents: int
        currency: str = Field(default="CNY")

    @reg.upcaster("shop.thing-happened", 1)
    def _v1_to_v2(data):
        yuan, _, fen = data.pop("amount_yuan").partition(".")
        return {**data, "amount_cents": int(yuan) * 100 + int((fen + "00")[:2])}

    return reg


def test_upcasts_old_versions_to_the_newest():
    reg = _registry_with_v2()
    v1 = reg.models[("shop.thing-happened", 1)]
    env = make_envelope(v1(amount_yuan="12.5"), producer="t", key="k")
    out = reg.decode(env.to_bytes(), env.headers())
    assert out.event_version == 2
    assert out.data.amount_cents == 1250 and out.data.currency == "CNY"
    assert out.event_id == env.event_id
    assert reg.check() == []


def test_registry_check_finds_missing_upcaster_and_gaps():
    reg = EventRegistry()

    @reg.event("a.b", 1, Topic.DIAGNOSTICS)
    class A1(EventPayload):
        x: int

    @reg.event("a.b", 3, Topic.DIAGNOSTICS)
    class A3(EventPayload):
        x: int

    problems = reg.check()
    assert any("gap" in p for p in problems)
    assert any("no upcaster from v1" in p for p in problems)
    with pytest.raises(ValueError, match="registered twice"):
        reg.event("a.b", 1, Topic.DIAGNOSTICS)(A1)


def test_the_real_registry_is_consistent():
    assert REGISTRY.check() == []
    for (t, v), model in REGISTRY.models.items():
        assert model.__topic__ in {str(x) for x in Topic}, f"{t} v{v} on an unknown topic"


def test_dlq_topic_names():
    assert dlq_topic("order") == "omni.dlq.order"
    with pytest.raises(ValueError):
        dlq_topic("bad group")
