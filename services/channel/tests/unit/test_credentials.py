"""credentials.py: keys from the environment or a file, old keys still decrypt, clear errors, no leaks."""

from __future__ import annotations

import pytest

from omni_channel import credentials as c
from omni_channel.platforms.taobao import _creds
from omni_channel.store import ShopCredentials


def test_keys_from_the_variable_and_the_file_newest_first(tmp_path):
    old, new = c.generate_key(), c.generate_key()
    f = tmp_path / "keys"
    f.write_text(f"# newest first\n{old}\n")
    s = c.CredentialsSettings(OMNI_CHANNEL_CREDENTIALS_KEY=new, OMNI_CHANNEL_CREDENTIALS_KEY_FILE=f)
    assert s.keys() == ([new, old], "configured")
    token = c.Vault([old]).seal("s3cret")
    v = c.load(s)
    assert v.open(token) == "s3cret"  # an old key still decrypts
    rotated = v.rotate(token)
    assert c.Vault([new]).open(rotated) == "s3cret" and "s3cret" not in rotated
    assert c.CredentialsSettings().keys() == ([c.DEV_KEY], "dev")


def test_clear_errors_that_never_name_a_key(tmp_path):
    with pytest.raises(c.CredentialsKeyError, match=r"key #2 .* is not a Fernet key"):
        c.Vault([c.generate_key(), "nope"])
    with pytest.raises(c.CredentialsKeyError, match="cannot be read"):
        c.CredentialsSettings(OMNI_CHANNEL_CREDENTIALS_KEY_FILE=tmp_path / "missing").keys()
    key = c.generate_key()
    token = c.Vault([key]).seal("s3cret")
    with pytest.raises(c.CredentialsKeyError, match="cannot be decrypted") as err:
        c.Vault([c.generate_key()]).open(token)
    assert key not in str(err.value)
    with pytest.raises(c.CredentialsKeyError):  # a token under an unknown key is never taken for plaintext
        c.Vault([c.generate_key()]).is_sealed(token)
    assert c.Vault([key]).is_sealed(token) and not c.Vault([key]).is_sealed("plain-text-secret")


def test_sealed_values_show_nothing_and_open_only_at_signing():
    v = c.Vault([c.generate_key()])
    shop = ShopCredentials("tmall", "S", "k", c.Sealed(v.seal("s3cret"), v), True, c.Sealed(v.seal("tok"), v))
    assert (
        "s3cret" not in repr(shop)
        and "tok" not in repr(shop.session_key)
        and "s3cret" not in str(shop.secret)
    )
    creds = _creds(shop)
    assert (creds.secret, creds.session) == ("s3cret", "tok") and "s3cret" not in repr(creds)
    wrong = ShopCredentials("tmall", "S", "k", c.Sealed(c.Vault([c.generate_key()]).seal("x"), v), True, "t")
    answer = _creds(wrong)
    assert answer.outcome.value == "retry" and "cannot be decrypted" in answer.reason
