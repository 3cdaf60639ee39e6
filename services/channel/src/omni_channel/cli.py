"""`omni shops …`: the channel service's shop credentials from the command line (the chassis's `omni` finds
this through the `omni.cli` entry point)."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console

from omni_chassis.db import Database
from omni_chassis.settings import ServiceSettings

from . import credentials
from .store import Repository

shops_app = typer.Typer(help="Channel shops: their encrypted credentials.", no_args_is_help=True)


@shops_app.command("rotate-key")
def rotate_key() -> None:
    """Re-encrypt every shop's secret and tokens under the first key of OMNI_CHANNEL_CREDENTIALS_KEY (or
    _FILE). Put the new key first and the old ones after it, run this, then drop the old keys."""
    try:
        vault = credentials.load()
    except credentials.CredentialsKeyError as exc:
        Console().print(f"[red]rotate-key: {exc}[/]")
        raise typer.Exit(2) from None

    async def _run() -> int:
        db = Database(ServiceSettings(service_name="channel").db_url)
        try:
            async with db.transaction() as session:  # all shops or none
                return await Repository(session).rotate_shop_keys(vault)
        finally:
            await db.dispose()

    try:
        count = asyncio.run(_run())
    except credentials.CredentialsKeyError as exc:
        Console().print(f"[red]rotate-key: nothing changed: {exc}[/]")
        raise typer.Exit(1) from None
    Console().print(f"[green]shops[/]: {count} re-encrypted under the first of {vault.key_count} key(s)")


@shops_app.command("generate-key")
def generate_key() -> None:
    """Print a new Fernet key (for OMNI_CHANNEL_CREDENTIALS_KEY)."""
    typer.echo(credentials.generate_key())
