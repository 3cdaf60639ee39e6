"""Forward reads: a consumer that knows up to v(N) reads a newer, additive version through v(N), and refuses
(DecodeError, hence the dead-letter topic) only what it truly cannot read. The real v2 is fulfillment.shipped
/ fulfillment.picked-up v2 (lines carry the order's line id)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from pydantic import BaseModel, ValidationError

from omni_contracts import REGISTRY, DecodeError, EventPayload, EventRegistry, Topic, make_envelope
from omni_contracts.events.common import MaterialQty
from omni_contracts.events.fulfillment import PickedUpV1, PickedUpV2, ShippedLine, ShippedV1, ShippedV2
from omni_contracts.schemas import forward_readability

AT = datetime(2026, 12, 1, 8, 30, tzinfo=UTC)
V1_ONLY = REGISTRY.pinned({"fulfillment.shipped": 1, "fulfillment.picked-up": 1})


def shipped_v2(**kw) -> ShippedV2:
    return ShippedV2(
        task_id="T1",
        order_id="O1",
        node_code="WH-HZ",
        reservation_id="R1",
        carrier="SF",
        tracking_no="SF123",
        lines=[
            ShippedLine(line_id="O1-1", material_code="BEAN", qty=2),
            ShippedLine(line_id="O1-2", material_code="MUG", qty=1),
        ],
        shipped_at=AT,
        **kw,
    )


def wire(env, mutate=None, headers=None):
    """The bytes and headers a producer would send, optionally edited (a producer we do not control)."""
    body = json.loads(env.to_bytes())
    if mutate:
        mutate(body)
    return json.dumps(body).encode(), headers if headers is not None else env.headers()


def test_a_v1_consumer_reads_v2_through_v1():
    env = make_envelope(shipped_v2(), producer="fulfillment", key="O1")
    assert dict(env.headers())["event_readable_as"] == b"1"
    before = V1_ONLY.forward_reads[("fulfillment.shipped", 2)]
    got = V1_ONLY.decode(*wire(env))
    assert type(got.data) is ShippedV1
    assert got.event_version == 1 and got.read_forward_from == 2
    assert got.event_id == env.event_id and got.key == "O1" and got.occurred_at == env.occurred_at
    assert got.data.lines == [
        MaterialQty(material_code="BEAN", qty=2),
        MaterialQty(material_code="MUG", qty=1),
    ]
    assert got.data.tracking_no == "SF123" and got.data.shipped_at == AT
    assert V1_ONLY.forward_reads[("fulfillment.shipped", 2)] == before + 1


def test_a_v1_consumer_reads_picked_up_v2_too():
    data = PickedUpV2(
        task_id="T2",
        order_id="O2",
        node_code="ST-1",
        reservation_id="R2",
        lines=[ShippedLine(line_id="O2-1", material_code="BEAN", qty=1)],
        picked_up_at=AT,
    )
    got = V1_ONLY.decode(*wire(make_envelope(data, producer="fulfillment", key="O2")))
    assert type(got.data) is PickedUpV1 and got.read_forward_from == 2
    assert got.data.lines == [MaterialQty(material_code="BEAN", qty=1)]


def test_the_current_consumer_reads_v2_as_it_is_and_v1_without_an_upcaster():
    v2 = REGISTRY.decode(*wire(make_envelope(shipped_v2(), producer="fulfillment", key="O1")))
    assert type(v2.data) is ShippedV2 and v2.read_forward_from is None
    assert [x.line_id for x in v2.data.lines] == ["O1-1", "O1-2"]

    old = ShippedV1(**{**shipped_v2().model_dump(), "lines": [{"material_code": "BEAN", "qty": 2}]})
    env = make_envelope(old, producer="fulfillment-old", key="O1")
    assert env.event_version == 1 and "event_readable_as" not in dict(env.headers())
    got = REGISTRY.decode(*wire(env))
    assert type(got.data) is ShippedV2 and got.event_version == 2
    assert got.data.lines == [ShippedLine(material_code="BEAN", qty=2, line_id=None)]
    assert isinstance(got.data, ShippedV1), "code written for ShippedV1 keeps working on a V2"
    assert ("fulfillment.shipped", 1) not in REGISTRY.upcasters  # additive: v1 data is v2 data


def test_unknown_fields_of_a_future_version_are_dropped_at_every_level():
    def v3(body):
        body["event_version"] = 3
        body["data"]["insured_cents"] = 5000
        body["data"]["lines"][0]["batch_no"] = "B-7"

    env = make_envelope(shipped_v2(), producer="fulfillment", key="O1")
    headers = [(k, v) for k, v in env.headers() if k != "event_version"] + [("event_version", b"3")]
    got = REGISTRY.decode(*wire(env, v3, headers))
    assert type(got.data) is ShippedV2 and got.read_forward_from == 3 and got.event_version == 2
    assert got.data.lines[0] == ShippedLine(line_id="O1-1", material_code="BEAN", qty=2)
    assert "insured_cents" not in got.data.model_dump()


@pytest.mark.parametrize(
    ("mutate", "what"),
    [
        (
            lambda b: b["data"]["lines"][0].update(qty="two"),
            "data.lines.0.qty: Input should be a valid integer",
        ),
        (lambda b: b["data"].pop("tracking_no"), "data.tracking_no: Field required"),
        (lambda b: b["data"]["lines"][1].update(qty=0), "data.lines.1.qty: Input should be greater than 0"),
        (lambda b: b["data"].update(lines="BEAN x2"), "data.lines: Input should be a valid list"),
    ],
)
def test_a_v2_that_v1_cannot_read_is_refused_with_a_clear_error(mutate, what):
    env = make_envelope(shipped_v2(), producer="fulfillment", key="O1")
    with pytest.raises(DecodeError) as exc:
        V1_ONLY.decode(*wire(env, mutate))
    message = str(exc.value)
    assert message.startswith(
        "fulfillment.shipped v2 is newer than this consumer knows and cannot be read as v1: "
    )
    assert what in message
    assert message.endswith("this consumer knows fulfillment.shipped up to v1: upgrade omni-contracts")


def test_a_newer_version_declared_breaking_is_refused_even_if_it_would_validate():
    env = make_envelope(shipped_v2(), producer="fulfillment", key="O1")
    headers = [(k, v) for k, v in env.headers() if k != "event_readable_as"] + [("event_readable_as", b"2")]
    with pytest.raises(DecodeError, match="v2 is a breaking change, readable only as v2 or newer"):
        V1_ONLY.decode(*wire(env, headers=headers))
    bad = [(k, v) for k, v in env.headers() if k != "event_readable_as"] + [("event_readable_as", b"one")]
    with pytest.raises(DecodeError, match="event_readable_as header 'one' is not an integer"):
        V1_ONLY.decode(*wire(env, headers=bad))


def test_without_the_header_a_newer_version_is_read_if_it_validates():
    """A producer outside Omni may not send event_readable_as: the known schema decides."""
    env = make_envelope(shipped_v2(), producer="a-partner", key="O1")
    headers = [(k, v) for k, v in env.headers() if k != "event_readable_as"]
    assert V1_ONLY.decode(*wire(env, headers=headers)).read_forward_from == 2


def test_pinned_registry_knows_only_up_to_its_pins():
    assert V1_ONLY.versions("fulfillment.shipped") == [1]
    assert V1_ONLY.versions("fulfillment.picked-up") == [1]
    assert V1_ONLY.versions("order.accepted") == REGISTRY.versions("order.accepted")
    assert V1_ONLY.check() == [] and REGISTRY.check() == []


def test_a_readable_as_claim_that_is_false_is_caught():
    reg = EventRegistry()

    @reg.event("shop.thing", 1, Topic.DIAGNOSTICS)
    class ThingV1(EventPayload):
        qty: int

    @reg.event("shop.thing", 2, Topic.DIAGNOSTICS, readable_as=1)
    class ThingV2(EventPayload):
        qty: str  # not additive
        note: str = ""

    problems = forward_readability(reg)
    assert problems and "shop.thing v2 is declared readable as v1 but is not additive" in problems[0]
    assert "qty" in problems[0]
    with pytest.raises(ValueError, match="readable_as must be between 1 and 3"):
        reg.event("shop.thing", 3, Topic.DIAGNOSTICS, readable_as=4)(ThingV1)


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> None:
    if model in seen:
        return
    seen.add(model)
    for f in model.model_fields.values():
        stack = [f.annotation]
        while stack:
            t = stack.pop()
            if isinstance(t, type) and issubclass(t, BaseModel):
                _models(t, seen)
            stack.extend(getattr(t, "__args__", ()))


def test_every_payload_and_value_type_ignores_unknown_fields():
    """What makes forward reads work at every level: no model may forbid extra fields."""
    seen: set[type[BaseModel]] = set()
    for model in REGISTRY.models.values():
        _models(model, seen)
    assert len(seen) > len(REGISTRY.models)  # nested value types were found too
    strict = sorted(m.__name__ for m in seen if m.model_config.get("extra", "ignore") != "ignore")
    assert strict == []


def test_line_id_when_present_is_not_empty():
    with pytest.raises(ValidationError, match="line_id"):
        ShippedLine(line_id="", material_code="BEAN", qty=1)
