"""Shop credentials at rest (credentials.py): stored encrypted, never the plaintext; the migration encrypts
plaintext rows; `rotate-key` re-encrypts every shop under a new key and the stock push and the Tmall
webhook's signature check still work; a wrong key gives a clear error."""

from __future__ import annotations

import asyncio
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from alembic import command
from sqlalchemy import text

sys.path.insert(0, str(Path(__file__).parent))
from test_stock_push import APP_KEY, MIGRATIONS, SECRET, SESSION, _state, item, uid

from omni_channel import credentials
from omni_channel.app import build
from omni_channel.domain.signing import format_china_time, sign_tmall
from omni_channel.store import Repository
from omni_chassis.migrate import _config
from omni_chassis.testing import eventually
from omni_contracts import utcnow

pytestmark = pytest.mark.integration

REFRESH = "refresh-token-42"
from test_stock_push import db, prefix, publish, settings, sim  # noqa: E402,F401


@pytest.fixture(autouse=True)
def dev_vault() -> Any:
    credentials.use(credentials.Vault([credentials.DEV_KEY]))
    yield
    credentials.use(None)


@pytest.fixture
async def channel(db, sim, prefix) -> AsyncIterator[httpx.AsyncClient]:  # noqa: F811
    app = build(settings(db, sim, prefix))
    ctx = app.router.lifespan_context(app)
    await ctx.__aenter__()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
    body = {
        "name": "S",
        "app_key": APP_KEY,
        "secret": SECRET,
        "session_key": SESSION,
        "refresh_token": REFRESH,
    }
    r = await client.put("/shops/tmall/TM-S", json=body)
    assert r.status_code == 201, r.text
    for plain in (SECRET, SESSION, REFRESH):
        assert plain not in r.text
    assert r.json()["has_refresh_token"] is True and r.json()["has_session_key"] is True
    yield client
    await client.aclose()
    await ctx.__aexit__(None, None, None)


async def stored(db) -> dict[str, Any]:  # noqa: F811
    async with db.engine.connect() as conn:
        row = (
            await conn.execute(
                text("SELECT secret, session_key, refresh_token FROM shops WHERE shop_id = 'TM-S'")
            )
        ).one()
    return dict(row._mapping)


def webhook(tid: int, secret: str = SECRET) -> tuple[dict[str, str], bytes]:
    doc = json.loads((Path(__file__).parent.parent / "fixtures/tmall_trade.json").read_text())
    doc["trade_fullinfo_get_response"]["trade"].update(tid=tid, tid_str=str(tid))
    body = json.dumps(doc).encode()
    params = {
        "shop_id": "TM-S",
        "app_key": APP_KEY,
        "timestamp": format_china_time(utcnow()),
        "sign_method": "md5",
    }
    return {**params, "sign": sign_tmall(params, body, secret, "md5")}, body


async def rotate(db, vault: credentials.Vault) -> int:  # noqa: F811
    async with db.transaction() as session:
        return await Repository(session).rotate_shop_keys(vault)


async def test_the_stored_bytes_are_not_the_plaintext(channel, db):  # noqa: F811
    row = await stored(db)
    for col, plain in (("secret", SECRET), ("session_key", SESSION), ("refresh_token", REFRESH)):
        assert plain not in row[col] and row[col].startswith(credentials.FERNET_PREFIX)
        assert credentials.vault().open(row[col]) == plain
    shops = (await channel.get("/shops")).text
    assert SECRET not in shops and row["secret"] not in shops and SESSION not in shops


async def test_rotate_key_re_encrypts_and_push_and_webhook_still_work(channel, db, sim, publish):  # noqa: F811
    before = await stored(db)
    new = credentials.generate_key()
    assert await rotate(db, credentials.Vault([new, credentials.DEV_KEY])) == 1
    credentials.use(credentials.Vault([new]))  # the old key is gone
    after = await stored(db)
    assert all(after[c] != before[c] for c in after)
    assert credentials.Vault([new]).open(after["secret"]) == SECRET
    with pytest.raises(credentials.CredentialsKeyError):
        credentials.Vault([credentials.DEV_KEY]).open(after["secret"])
    # the stock push signs with the decrypted secret and session
    await item(sim, 7101)
    lid = uid("L")
    await publish(lid, 7101, 5, seq=1)
    await eventually(lambda: _state(_Status(channel), lid, "acknowledged"), timeout=15)
    # the Tmall webhook's signature check
    params, body = webhook(880001)
    r = await channel.post("/channels/tmall/orders", params=params, content=body)
    assert r.status_code == 202, r.text
    params, body = webhook(880002, secret="not-the-secret")
    assert (await channel.post("/channels/tmall/orders", params=params, content=body)).status_code == 401


async def test_a_wrong_key_gives_a_clear_error(channel, db, sim, publish):  # noqa: F811
    credentials.use(credentials.Vault([credentials.generate_key()]))
    params, body = webhook(880003)
    r = await channel.post("/channels/tmall/orders", params=params, content=body)
    assert r.status_code == 503 and "cannot be decrypted" in r.json()["detail"], r.text
    assert SECRET not in r.text and credentials.DEV_KEY not in r.text
    await item(sim, 7102)
    lid = uid("L")
    await publish(lid, 7102, 5, seq=1)
    st = await eventually(lambda: _state(_Status(channel), lid, "retrying"), timeout=15)
    assert "cannot be decrypted" in st["last_error"] and "OMNI_CHANNEL_CREDENTIALS_KEY" in st["last_error"]
    with pytest.raises(credentials.CredentialsKeyError, match="not a Fernet key"):
        credentials.Vault(["short"])
    # rotating with a key set that cannot open the rows changes nothing
    with pytest.raises(credentials.CredentialsKeyError):
        await rotate(db, credentials.Vault([credentials.generate_key()]))
    credentials.use(credentials.Vault([credentials.DEV_KEY]))  # the right key again: the push recovers
    await eventually(lambda: _state(_Status(channel), lid, "acknowledged"), timeout=15)


async def test_the_migration_encrypts_plaintext_rows(db):  # noqa: F811
    cfg = _config(db.url, MIGRATIONS, "alembic_version")
    await asyncio.to_thread(command.downgrade, cfg, "channel0002")
    async with db.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO shops (channel, shop_id, name, app_key, secret, active, session_key) "
                "VALUES ('tmall', 'OLD', 'old', 'k', 'plain-secret-1', true, 'plain-session-1')"
            )
        )
    await asyncio.to_thread(command.upgrade, cfg, "head")
    await asyncio.to_thread(command.upgrade, cfg, "head")  # again: nothing changes
    async with db.engine.connect() as conn:
        row = (await conn.execute(text("SELECT secret, session_key FROM shops WHERE shop_id = 'OLD'"))).one()
    assert "plain" not in row.secret and "plain" not in row.session_key
    v = credentials.vault()
    assert (v.open(row.secret), v.open(row.session_key)) == ("plain-secret-1", "plain-session-1")
    await asyncio.to_thread(command.downgrade, cfg, "channel0002")
    async with db.engine.connect() as conn:
        row = (await conn.execute(text("SELECT secret FROM shops WHERE shop_id = 'OLD'"))).one()
    assert row.secret == "plain-secret-1"
    await asyncio.to_thread(command.upgrade, cfg, "head")


class _Status:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client

    async def status(self, listing_id: str) -> dict[str, Any]:
        r = await self.client.get(f"/push-status/{listing_id}")
        return r.json() if r.status_code == 200 else {}


async def test_the_omni_shops_rotate_key_command(channel, db, monkeypatch):  # noqa: F811
    from typer.testing import CliRunner

    from omni_chassis.cli import app as omni

    new = credentials.generate_key()
    env = {"CHANNEL_DATABASE_URL": db.url, "OMNI_CHANNEL_CREDENTIALS_KEY": f"{new},{credentials.DEV_KEY}"}
    result = await asyncio.to_thread(CliRunner().invoke, omni, ["shops", "rotate-key"], env=env)
    assert result.exit_code == 0, result.output
    assert "1 re-encrypted" in result.output and new not in result.output and SECRET not in result.output
    assert credentials.Vault([new]).open((await stored(db))["secret"]) == SECRET
    wrong = {**env, "OMNI_CHANNEL_CREDENTIALS_KEY": credentials.generate_key()}
    result = await asyncio.to_thread(CliRunner().invoke, omni, ["shops", "rotate-key"], env=wrong)
    assert result.exit_code == 1 and "cannot be decrypted" in result.output
    bad = await asyncio.to_thread(
        CliRunner().invoke, omni, ["shops", "rotate-key"], env={**env, "OMNI_CHANNEL_CREDENTIALS_KEY": "x"}
    )
    assert bad.exit_code == 2 and "not a Fernet key" in bad.output
