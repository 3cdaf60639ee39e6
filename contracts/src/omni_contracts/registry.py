"""(event type, version) -> payload model, with upcasters, and `decode` that validates and upcasts."""

from __future__ import annotations

import json
import logging
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from .envelope import (
    H_EVENT_READABLE_AS,
    H_EVENT_TYPE,
    H_EVENT_VERSION,
    Envelope,
    EventPayload,
    headers_to_dict,
)

log = logging.getLogger("omni_contracts")

Upcaster = Callable[[dict[str, Any]], dict[str, Any]]


class DecodeError(ValueError):
    """An event that cannot be read. The message says exactly what is wrong."""


def format_validation_error(exc: ValidationError, prefix: str = "") -> str:
    parts = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        where = f"{prefix}{loc}" if loc else prefix.rstrip(".") or "(root)"
        parts.append(f"{where}: {err['msg']}")
    return "; ".join(parts)


@dataclass
class EventRegistry:
    models: dict[tuple[str, int], type[EventPayload]] = field(default_factory=dict)
    upcasters: dict[tuple[str, int], Upcaster] = field(default_factory=dict)
    # (event type, version on the wire) -> how many events this registry read forward (a metric to export).
    forward_reads: Counter[tuple[str, int]] = field(default_factory=Counter)

    # -- registration -------------------------------------------------------------------------------------
    def event(
        self, event_type: str, version: int, topic: str, *, readable_as: int | None = None
    ) -> Callable[[type[EventPayload]], Any]:
        """Class decorator: register a payload model as `event_type` v`version`, published on `topic`.

        `readable_as=k` (k < version) declares that this version only adds optional fields to each of
        v`k`..v`version-1`: their readers read it through their own schema, and it needs no upcaster from
        v`version-1`. The contracts' tests check the claim against the schemas. Default: only as itself.
        """
        floor = version if readable_as is None else readable_as

        def deco(cls: type[EventPayload]) -> type[EventPayload]:
            if (event_type, version) in self.models:
                raise ValueError(f"{event_type} v{version} is registered twice")
            if version < 1:
                raise ValueError("versions start at 1")
            if not 1 <= floor <= version:
                raise ValueError(f"{event_type} v{version}: readable_as must be between 1 and {version}")
            cls.__event_type__ = event_type
            cls.__event_version__ = version
            cls.__readable_as__ = floor
            cls.__topic__ = str(topic)
            self.models[(event_type, version)] = cls
            return cls

        return deco

    def upcaster(self, event_type: str, from_version: int) -> Callable[[Upcaster], Upcaster]:
        """Register a function turning the `data` dict of v`from_version` into that of v`from_version + 1`."""

        def deco(fn: Upcaster) -> Upcaster:
            self.upcasters[(event_type, from_version)] = fn
            return fn

        return deco

    # -- lookup ---------------------------------------------------------------------------------------------
    def versions(self, event_type: str) -> list[int]:
        return sorted(v for (t, v) in self.models if t == event_type)

    def latest(self, event_type: str) -> type[EventPayload]:
        vs = self.versions(event_type)
        if not vs:
            raise DecodeError(f"unknown event type {event_type!r}")
        return self.models[(event_type, vs[-1])]

    def event_types(self) -> list[str]:
        return sorted({t for (t, _) in self.models})

    def check(self) -> list[str]:
        """Problems in the registry itself: a version gap, or a missing upcaster between two versions."""
        problems = []
        for t in self.event_types():
            vs = self.versions(t)
            if vs != list(range(1, vs[-1] + 1)):
                problems.append(f"{t}: versions {vs} have a gap")
            problems.extend(
                f"{t}: no upcaster from v{v} to v{v + 1}"
                for v in vs[:-1]
                if (t, v) not in self.upcasters and not self._additive(t, v + 1, v)
            )
        return problems

    def pinned(self, versions: Mapping[str, int]) -> EventRegistry:
        """A copy that knows each event type in `versions` only up to the version given (as a consumer built
        against an older omni-contracts would): for tests and for consumers that must stay on a version."""
        reg = EventRegistry()
        for (t, v), model in self.models.items():
            if v <= versions.get(t, v):
                reg.models[(t, v)] = model
        for (t, v), fn in self.upcasters.items():
            if (t, v + 1) in reg.models:
                reg.upcasters[(t, v)] = fn
        return reg

    # -- decoding -------------------------------------------------------------------------------------------
    def decode(
        self, value: bytes | str | None, headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None
    ) -> Envelope[Any]:
        """Validate an event and bring it to the newest version this registry knows.

        An older version is upcast. A newer version is read forward through the newest known one when it only
        adds fields (its `event_readable_as` header, when sent, must allow it); its unknown fields are
        dropped, every known field is validated, and the envelope's `read_forward_from` says so. Anything
        that cannot be read raises DecodeError saying why.
        """
        if value is None or len(value) == 0:
            raise DecodeError("empty message: no event body")
        try:
            body = json.loads(value)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise DecodeError(f"body is not JSON: {exc}") from None
        if not isinstance(body, dict):
            raise DecodeError(f"body is a JSON {type(body).__name__}, expected an event envelope object")
        hdr = headers_to_dict(headers)

        event_type = body.get("event_type") or hdr.get(H_EVENT_TYPE)
        if not event_type or not isinstance(event_type, str):
            raise DecodeError("no event_type in body or headers")
        if hdr.get(H_EVENT_TYPE) and hdr[H_EVENT_TYPE] != event_type:
            raise DecodeError(f"event_type header {hdr[H_EVENT_TYPE]!r} disagrees with body {event_type!r}")
        raw_version = body.get("event_version", hdr.get(H_EVENT_VERSION))
        try:
            version = int(raw_version)
        except (TypeError, ValueError):
            raise DecodeError(f"{event_type}: event_version {raw_version!r} is not an integer") from None
        if hdr.get(H_EVENT_VERSION) and hdr[H_EVENT_VERSION] != str(version):
            raise DecodeError(
                f"{event_type}: event_version header {hdr[H_EVENT_VERSION]!r} disagrees with body {version}"
            )

        known = self.versions(event_type)
        if not known:
            raise DecodeError(f"unknown event type {event_type!r}")
        if version not in known:
            if version > known[-1]:
                return self._read_forward(event_type, version, known[-1], body, hdr)
            raise DecodeError(f"{event_type} v{version} is not a known version (known: {known})")

        model = self.models[(event_type, version)]
        try:
            env = Envelope[model].model_validate(body)  # type: ignore[valid-type]
        except ValidationError as exc:
            raise DecodeError(f"{event_type} v{version} is invalid: {format_validation_error(exc)}") from None
        if version == known[-1]:
            return env

        data = env.data.model_dump(mode="json")
        for v in range(version, known[-1]):
            up = self.upcasters.get((event_type, v))
            if up is None:
                if self._additive(event_type, v + 1, v):
                    continue  # v's data is valid v+1 data: nothing to convert
                raise DecodeError(f"{event_type}: no upcaster from v{v} to v{v + 1}")
            try:
                data = up(dict(data))
            except Exception as exc:
                raise DecodeError(f"{event_type}: upcasting v{v} to v{v + 1} failed: {exc!r}") from None
        latest = self.models[(event_type, known[-1])]
        try:
            payload = latest.model_validate(data)
        except ValidationError as exc:
            raise DecodeError(
                f"{event_type} v{version} upcast to v{known[-1]} is invalid: {format_validation_error(exc)}"
            ) from None
        return Envelope[latest].model_validate(  # type: ignore[valid-type]
            {**env.model_dump(exclude={"data"}), "event_version": known[-1], "data": payload}
        )

    def _read_forward(
        self, event_type: str, version: int, newest: int, body: dict[str, Any], hdr: dict[str, str]
    ) -> Envelope[Any]:
        """Read a version newer than this registry knows through the newest one it knows, or refuse."""
        upgrade = f"this consumer knows {event_type} up to v{newest}: upgrade omni-contracts"
        raw_floor = hdr.get(H_EVENT_READABLE_AS)
        if raw_floor is not None:
            try:
                floor = int(raw_floor)
            except ValueError:
                raise DecodeError(
                    f"{event_type} v{version}: {H_EVENT_READABLE_AS} header {raw_floor!r} is not an integer"
                ) from None
            if floor > newest:
                raise DecodeError(
                    f"{event_type} v{version} is a breaking change, readable only as v{floor} or newer; "
                    + upgrade
                )
        model = self.models[(event_type, newest)]
        try:
            env = Envelope[model].model_validate({**body, "event_version": newest})  # type: ignore[valid-type]
        except ValidationError as exc:
            raise DecodeError(
                f"{event_type} v{version} is newer than this consumer knows and cannot be read as v{newest}: "
                f"{format_validation_error(exc)}; {upgrade}"
            ) from None
        env._read_forward_from = version
        self.forward_reads[(event_type, version)] += 1
        if self.forward_reads[(event_type, version)] == 1:
            log.warning(
                "%s v%d read forward as v%d; %s for its new fields", event_type, version, newest, upgrade
            )
        return env

    def _additive(self, event_type: str, version: int, older: int) -> bool:
        """Whether readers of v`older` can read v`version` as it is (declared with `readable_as`)."""
        model = self.models.get((event_type, version))
        return model is not None and 0 < model.__readable_as__ <= older


REGISTRY = EventRegistry()
event = REGISTRY.event
upcaster = REGISTRY.upcaster


def decode(
    value: bytes | str | None, headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None
) -> Envelope[Any]:
    """Decode with the registry of every Omni event."""
    return REGISTRY.decode(value, headers)
