"""API keys: who is calling. Only SHA-256 hashes of the keys are kept; lookups compare in constant time.

A key entry (JSON): `{"name": "ops-team", "key_sha256": "<64 hex>", "role": "operations"}`; a store-staff key
also carries `"node_code": "STORE-SH-01"` (the one store it may act for). An optional `"comment"` is ignored.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from .permissions import ROLES, STORE_STAFF

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_FIELDS = {"name", "key_sha256", "role", "node_code", "comment"}


class KeyConfigError(ValueError):
    """The key configuration is malformed (raised at startup, never per request)."""


@dataclass(frozen=True)
class Principal:
    """The caller a key stands for."""

    name: str
    role: str
    node_code: str | None = None


@dataclass(frozen=True)
class ApiKey:
    principal: Principal
    key_sha256: str


def hash_key(plaintext: str) -> str:
    """The lowercase hex SHA-256 of a key, as stored in the key file."""
    return hashlib.sha256(plaintext.encode("utf-8")).hexdigest()


def parse_keys(raw: Any, source: str) -> list[ApiKey]:
    """Validate a decoded JSON list of key entries; `source` names where it came from, for the errors."""
    if isinstance(raw, dict) and "keys" in raw:
        raw = raw["keys"]
    if not isinstance(raw, list):
        raise KeyConfigError(f"{source}: expected a JSON list of key entries, got {type(raw).__name__}")
    keys: list[ApiKey] = []
    for i, entry in enumerate(raw):
        where = f"{source}: key entry {i}"
        if not isinstance(entry, dict):
            raise KeyConfigError(f"{where}: expected an object, got {type(entry).__name__}")
        unknown = set(entry) - _FIELDS
        if unknown:
            raise KeyConfigError(f"{where}: unknown fields {sorted(unknown)} (allowed: {sorted(_FIELDS)})")
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            raise KeyConfigError(f"{where}: 'name' must be a non-empty string")
        where = f"{source}: key {name!r}"
        digest = entry.get("key_sha256")
        if not isinstance(digest, str) or not _HEX64.match(digest):
            raise KeyConfigError(f"{where}: 'key_sha256' must be 64 lowercase hex characters (a SHA-256)")
        role = entry.get("role")
        if role not in ROLES:
            raise KeyConfigError(f"{where}: role {role!r} is not one of {', '.join(ROLES)}")
        node = entry.get("node_code")
        if role == STORE_STAFF:
            if not isinstance(node, str) or not node.strip():
                raise KeyConfigError(
                    f"{where}: a store_staff key needs a 'node_code' (the store it acts for)"
                )
        elif node is not None:
            raise KeyConfigError(f"{where}: only store_staff keys take a 'node_code' (role is {role})")
        keys.append(ApiKey(Principal(name, role, node), digest))
    return keys


def parse_keys_json(text: str, source: str) -> list[ApiKey]:
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        raise KeyConfigError(f"{source}: not valid JSON: {exc}") from exc
    return parse_keys(raw, source)


class KeyRing:
    """The configured keys. `lookup` hashes the presented key and compares it with every stored hash."""

    def __init__(self, keys: Iterable[ApiKey]) -> None:
        self._keys: Sequence[ApiKey] = tuple(keys)
        names = [k.principal.name for k in self._keys]
        dup_names = sorted({n for n in names if names.count(n) > 1})
        if dup_names:
            raise KeyConfigError(f"duplicate key names: {', '.join(dup_names)}")
        digests = [k.key_sha256 for k in self._keys]
        if len(set(digests)) != len(digests):
            raise KeyConfigError("two key entries have the same key_sha256 (one key, two identities)")

    def __len__(self) -> int:
        return len(self._keys)

    def lookup(self, presented: str) -> Principal | None:
        digest = hash_key(presented).encode()
        found: Principal | None = None
        for key in self._keys:  # no early exit: the time taken does not depend on which entry matched
            if hmac.compare_digest(digest, key.key_sha256.encode()):
                found = key.principal
        return found
