"""The receiver's personal data at rest: name, phone and address detail (docs/buyer-data.md). Pure.

A stored value is one of:

- `enc:v1:<kid>:<b64 nonce>:<b64 ciphertext>`: AES-256-GCM under the key `kid` of the key ring, with
  `<order id>` and the column as associated data, so a value copied to another order (or column) is refused;
- `masked:<mask>`: what the platform sent was already a mask (Tmall: 张* / 138****8000): kept as it is,
  there is nothing to protect and nothing to recover;
- anything else: a legacy plain value, written before order0010 (read as it is; see docs/buyer-data.md).

The key ring (`ORDER_BUYER_DATA_KEYS` = `kid:base64key[,kid2:base64key...]`) encrypts with its first key and
decrypts with any of them (rotation). Errors never carry a key or a plaintext.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

KEYS_ENV = "ORDER_BUYER_DATA_KEYS"
ENC_PREFIX = "enc:v1:"
MASKED_PREFIX = "masked:"
NONCE_BYTES = 12
KEY_BYTES = 32
_KID = re.compile(r"^[A-Za-z0-9_.-]{1,32}$")

NAME, PHONE, DETAIL = "receiver_name", "receiver_phone", "address_detail"
FIELDS = (NAME, PHONE, DETAIL)


class BuyerDataError(ValueError):
    """A malformed key ring, or a stored value these keys cannot open. Names no key and no plaintext."""


def mask_name(value: str) -> str:
    """张三 -> 张*"""
    return value if is_platform_masked(value) or not value else value[:1] + "*"


def mask_phone(value: str) -> str:
    """13800138000 -> 138****8000; shorter than 7 characters: ****."""
    if is_platform_masked(value) or not value:
        return value
    return value[:3] + "****" + value[-4:] if len(value) >= 7 else "****"


def mask_detail(value: str) -> str:
    """文一西路969号 -> 文一西路****"""
    return value if is_platform_masked(value) or not value else value[:4] + "****"


MASKS: dict[str, Callable[[str], str]] = {NAME: mask_name, PHONE: mask_phone, DETAIL: mask_detail}


def is_platform_masked(value: str) -> bool:
    """Whether the platform sent only a mask (a `*` in it): nothing to encrypt, nothing to recover."""
    return "*" in value


def kind(stored: str) -> str:
    """enc | masked | plain (legacy, before order0010)."""
    if stored.startswith(ENC_PREFIX):
        return "enc"
    return "masked" if stored.startswith(MASKED_PREFIX) else "plain"


def parse_key_ring(text: str) -> KeyRing:
    """`kid:base64key[,kid2:base64key...]`, the encrypting key first. BuyerDataError on anything else."""
    entries = [e.strip() for e in (text or "").split(",") if e.strip()]
    if not entries:
        raise BuyerDataError(
            f"{KEYS_ENV} is not set: the receiver's name, phone and address are stored encrypted, and the "
            "order service does not start without a key ring (kid:base64 of 32 bytes[,older kid:key...]; "
            "see services/order/docs/buyer-data.md)"
        )
    keys: list[tuple[str, bytes]] = []
    for i, entry in enumerate(entries, 1):
        kid, sep, b64 = entry.partition(":")
        kid = kid.strip()
        if not sep or not _KID.match(kid):
            raise BuyerDataError(
                f"{KEYS_ENV} entry #{i} is not kid:base64key (a key id of letters, digits, '_', '-' or '.', "
                "then ':' and the key)"
            )
        try:
            key = base64.b64decode(b64.strip(), validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if len(key) != KEY_BYTES:
            raise BuyerDataError(f"{KEYS_ENV} entry #{i} (key id {kid!r}): the key is not base64 of 32 bytes")
        if any(kid == k for k, _ in keys):
            raise BuyerDataError(f"{KEYS_ENV} names key id {kid!r} twice")
        keys.append((kid, key))
    return KeyRing(tuple(keys))


def new_key() -> str:
    """A fresh key, base64 of 32 random bytes (for `kid:<this>`)."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode("ascii")


def _aad(order_id: str, column: str) -> bytes:
    return f"omni-order\x1f{order_id}\x1f{column}".encode()


@dataclass(frozen=True)
class KeyRing:
    """Key id -> 32-byte key; the first encrypts, every one decrypts. Its repr shows only the key ids."""

    keys: tuple[tuple[str, bytes], ...] = field(repr=False)

    def __post_init__(self) -> None:
        if not self.keys:
            raise BuyerDataError(f"{KEYS_ENV}: an empty key ring")

    def __repr__(self) -> str:
        return f"KeyRing(kids={self.kids})"

    @property
    def kids(self) -> tuple[str, ...]:
        return tuple(k for k, _ in self.keys)

    def seal(self, value: str, *, order_id: str, column: str) -> str:
        """The value as stored: encrypted under the first key, or `masked:` as given for a platform mask."""
        if is_platform_masked(value):
            return MASKED_PREFIX + value
        kid, key = self.keys[0]
        nonce = os.urandom(NONCE_BYTES)
        ct = AESGCM(key).encrypt(nonce, value.encode("utf-8"), _aad(order_id, column))
        return f"{ENC_PREFIX}{kid}:{_b64(nonce)}:{_b64(ct)}"

    def open(self, stored: str, *, order_id: str, column: str) -> str:
        """The value a stored one holds (a platform mask as the mask; a legacy plain value as it is)."""
        k = kind(stored)
        if k == "masked":
            return stored[len(MASKED_PREFIX) :]
        if k == "plain":
            return stored
        kid, sep, rest = stored[len(ENC_PREFIX) :].partition(":")
        nonce_b64, sep2, ct_b64 = rest.partition(":")
        if not (sep and sep2):
            raise BuyerDataError(f"order {order_id}: {column} is not a well-formed enc:v1 value")
        key = dict(self.keys).get(kid)
        if key is None:
            raise BuyerDataError(
                f"order {order_id}: {column} was encrypted under key id {kid!r}, which {KEYS_ENV} does not "
                f"have (it has {', '.join(self.kids)}): keep old keys after the new one"
            )
        try:
            nonce, ct = base64.b64decode(nonce_b64, validate=True), base64.b64decode(ct_b64, validate=True)
            plain = AESGCM(key).decrypt(nonce, ct, _aad(order_id, column))
        except (binascii.Error, ValueError, InvalidTag):
            raise BuyerDataError(
                f"order {order_id}: {column} cannot be authenticated under key id {kid!r} (tampered, or "
                "belongs to another order)"
            ) from None
        return plain.decode("utf-8")

    def reseal(self, stored: str, *, order_id: str, column: str, to_order_id: str | None = None) -> str:
        """The same value under the first key (rotation), or bound to another order (`to_order_id`)."""
        value = self.open(stored, order_id=order_id, column=column)
        return self.seal(value, order_id=to_order_id or order_id, column=column)


def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def protect(ring: KeyRing, order_id: str, values: dict[str, str]) -> dict[str, str]:
    """The columns to store for the receiver's {column: plaintext}: each sealed, plus `<column>_masked`."""
    out: dict[str, str] = {}
    for column, value in values.items():
        out[column] = ring.seal(value, order_id=order_id, column=column)
        out[f"{column}_masked"] = MASKS[column](value)
    return out
