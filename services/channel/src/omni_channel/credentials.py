"""Shop credentials at rest: the app secret, the session key (token) and the refresh token are stored as
Fernet tokens (`cryptography`, AES-128-CBC + HMAC-SHA256), never as plaintext.

Keys (urlsafe base64 of 32 bytes, `omni shops generate-key` makes one) come from the environment:

- `OMNI_CHANNEL_CREDENTIALS_KEY`: one key, or several comma-separated, the newest first;
- `OMNI_CHANNEL_CREDENTIALS_KEY_FILE`: a file with one key per line, the newest first (`#` comments).

Both may be given (the variable's keys come first). The first key encrypts; every key decrypts
(MultiFernet), so after adding a new key in front, old rows still read until `omni shops rotate-key`
re-encrypts them under it. With neither set the service uses DEV_KEY, a published key for the local stack
only (a warning says so): never run a real shop on it.

A stored value is read back as a `Sealed` (its repr shows nothing); `reveal` decrypts it, which only the
platform clients and the webhook signature check do, right where they sign.
"""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from omni_chassis.logging import get_logger

log = get_logger(__name__)

# The local stack's key (make up, tests): public, in the repository. Production sets its own.
DEV_KEY = "b21uaS1sb2NhbC1kZXYtY3JlZGVudGlhbHMta2V5LTE="
KEY_VARS = "OMNI_CHANNEL_CREDENTIALS_KEY (or OMNI_CHANNEL_CREDENTIALS_KEY_FILE)"
FERNET_PREFIX = "gAAAAA"  # every Fernet token starts so (version byte 0x80 and a 64-bit timestamp)


class CredentialsKeyError(RuntimeError):
    """The configured keys cannot decrypt a stored credential, or a key is malformed. Never names a key."""


class CredentialsSettings(BaseSettings):
    model_config = SettingsConfigDict(populate_by_name=True, extra="ignore")

    key: str | None = Field(None, alias="OMNI_CHANNEL_CREDENTIALS_KEY")
    key_file: Path | None = Field(None, alias="OMNI_CHANNEL_CREDENTIALS_KEY_FILE")

    def keys(self) -> tuple[list[str], str]:
        """The keys, newest first, and where they came from."""
        keys = [k.strip() for k in (self.key or "").split(",") if k.strip()]
        if self.key_file is not None:
            try:
                lines = self.key_file.read_text().splitlines()
            except OSError as exc:
                raise CredentialsKeyError(
                    f"OMNI_CHANNEL_CREDENTIALS_KEY_FILE {str(self.key_file)!r} cannot be read: "
                    f"{exc.strerror or type(exc).__name__}"
                ) from None
            keys += [ln.strip() for ln in lines if ln.strip() and not ln.strip().startswith("#")]
        if keys:
            return keys, "configured"
        return [DEV_KEY], "dev"


class Vault:
    """Encrypts under the first key, decrypts under any."""

    def __init__(self, keys: list[str], source: str = "configured") -> None:
        if not keys:
            raise CredentialsKeyError(f"no credentials key: set {KEY_VARS}")
        fernets = []
        for i, key in enumerate(keys, 1):
            try:
                fernets.append(Fernet(key.encode("ascii")))
            except (ValueError, UnicodeEncodeError):
                raise CredentialsKeyError(
                    f"credentials key #{i} of {KEY_VARS} is not a Fernet key (urlsafe base64 of 32 bytes; "
                    "`omni shops generate-key` makes one)"
                ) from None
        self.fernet = MultiFernet(fernets)
        self.key_count = len(fernets)
        self.source = source

    def seal(self, plaintext: str) -> str:
        return self.fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def open(self, token: str) -> str:
        try:
            return self.fernet.decrypt(token.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeEncodeError):
            raise CredentialsKeyError(
                f"a stored shop credential cannot be decrypted with the {self.key_count} key(s) of "
                f"{KEY_VARS}: "
                "it was encrypted under another key (give the old key after the new one, comma-separated, "
                "then run `omni shops rotate-key`)"
            ) from None

    def rotate(self, token: str) -> str:
        """The same plaintext encrypted under the first key."""
        try:
            return self.fernet.rotate(token.encode("ascii")).decode("ascii")
        except InvalidToken:
            self.open(token)  # raises the clear error
            raise

    def is_sealed(self, value: str) -> bool:
        """Whether `value` is a token these keys open (False: plaintext). A token under an unknown key raises:
        it must never be taken for plaintext and encrypted twice."""
        try:
            self.fernet.decrypt(value.encode("ascii"))
            return True
        except (InvalidToken, UnicodeEncodeError):
            if value.startswith(FERNET_PREFIX) and len(value) >= 100:
                self.open(value)  # raises CredentialsKeyError
            return False


class Sealed:
    """A stored credential, still encrypted: only `reveal` (at signing) decrypts it."""

    __slots__ = ("_token", "_vault")

    def __init__(self, token: str, vault: Vault) -> None:
        self._token = token
        self._vault = vault

    def reveal(self) -> str:
        return self._vault.open(self._token)

    def __repr__(self) -> str:
        return "Sealed(***)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Sealed) and other._token == self._token

    def __hash__(self) -> int:
        return hash(self._token)


def reveal(value: str | Sealed | None) -> str | None:
    """The plaintext of a credential (a plain str is taken as given: tests, in-memory fakes)."""
    if isinstance(value, Sealed):
        return value.reveal()
    return value


_vault: Vault | None = None


def load(settings: CredentialsSettings | None = None) -> Vault:
    keys, source = (settings or CredentialsSettings()).keys()
    if source == "dev":
        log.warning(
            "shop credentials use the development key: set OMNI_CHANNEL_CREDENTIALS_KEY for real shops"
        )
    return Vault(keys, source)


def vault() -> Vault:
    """The process's vault, loaded from the environment once."""
    global _vault
    if _vault is None:
        _vault = load()
    return _vault


def use(v: Vault | None) -> None:
    """Replace the process's vault (tests; None: load from the environment again on next use)."""
    global _vault
    _vault = v


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")
