"""`omni`: operations from the command line (topics, migrations, dead letters)."""

from __future__ import annotations

import asyncio
from datetime import datetime

import typer
from rich.console import Console
from rich.table import Table

from omni_contracts import dlq_topic

from . import dlq as dlq_mod
from . import replay as replay_mod
from .db import Database
from .kafka import create_topics, make_producer
from .migrate import ensure_database, service_migrations, upgrade
from .settings import CommonSettings, ServiceSettings

app = typer.Typer(help="Omni operations: topics, migrations, dead letters, replays.", no_args_is_help=True)
topics_app = typer.Typer(help="Kafka topics.", no_args_is_help=True)
dlq_app = typer.Typer(help="Dead-letter topics: inspect and replay.", no_args_is_help=True)
app.add_typer(topics_app, name="topics")
app.add_typer(dlq_app, name="dlq")


def _console() -> Console:
    return Console()  # made per command so COLUMNS set by the caller applies


def _bootstrap() -> str:
    return CommonSettings().kafka_bootstrap_servers


@topics_app.command("create")
def topics_create() -> None:
    """Create every topic of the registry that does not exist yet (idempotent)."""
    new = asyncio.run(create_topics(_bootstrap()))
    _console().print(f"topics created: {', '.join(new)}" if new else "topics: all present")


@app.command()
def migrate(services: list[str] = typer.Argument(..., help="service names, e.g. order inventory")) -> None:
    """Create each service's database when missing and migrate it to head (chassis tables first)."""
    for svc in services:
        url = ServiceSettings(service_name=svc).db_url
        created = asyncio.run(ensure_database(url))
        try:
            location = service_migrations(svc)
        except LookupError:
            location = None
        upgrade(url, location if location and location.exists() else None)
        _console().print(f"[green]{svc}[/]: {'created and ' if created else ''}migrated")


@dlq_app.command("list")
def dlq_list(group: str = typer.Argument(..., help="consumer group, e.g. order")) -> None:
    """Show every dead letter of a consumer group, and whether it was replayed."""
    bootstrap = _bootstrap()

    async def _run() -> tuple[list[dlq_mod.DeadLetter], dict[int, int]]:
        return await dlq_mod.read_all(bootstrap, group), await dlq_mod.replayed_upto(bootstrap, group)

    letters, done = asyncio.run(_run())
    table = Table(title=f"{dlq_topic(group)}: {len(letters)} dead letter(s)")
    for col in ("at", "failed", "from", "event", "attempts", "error", "replayed"):
        table.add_column(col, overflow="fold")
    for d in letters:
        i = d.info
        failed = i.get(dlq_mod.H_FAILED_AT, "")
        with_ts = failed[:19].replace("T", " ") if failed else ""
        table.add_row(
            f"{d.partition}:{d.offset}",
            with_ts,
            f"{i.get(dlq_mod.H_TOPIC)}[{i.get(dlq_mod.H_PARTITION)}]@{i.get(dlq_mod.H_OFFSET)}",
            f"{i.get('event_type', '?')} v{i.get('event_version', '?')}",
            i.get(dlq_mod.H_ATTEMPTS, ""),
            i.get(dlq_mod.H_ERROR, "")[:300],
            "yes" if d.offset < done.get(d.partition, 0) else "no",
        )
    _console().print(table)


@dlq_app.command("replay")
def dlq_replay(
    group: str = typer.Argument(..., help="consumer group, e.g. order"),
    at: list[str] = typer.Option(None, "--at", help="only these, as partition:offset (repeatable)"),
) -> None:
    """Publish dead letters again to their original topic: all not yet replayed, or exactly --at ones."""
    only = None
    if at:
        try:
            only = {(int(p), int(o)) for p, o in (a.split(":", 1) for a in at)}
        except ValueError:
            raise typer.BadParameter("--at takes partition:offset, e.g. 0:12") from None
    bootstrap = _bootstrap()

    async def _run() -> list[tuple[dlq_mod.DeadLetter, str]]:
        producer = make_producer(bootstrap, "omni-dlq-replay")
        await producer.start()
        try:
            return await dlq_mod.replay_pending(bootstrap, producer, group, only)
        finally:
            await producer.stop()

    try:
        done = asyncio.run(_run())
    except LookupError as exc:
        _console().print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    for d, topic in done:
        _console().print(f"replayed {d.partition}:{d.offset} -> {topic}")
    _console().print(f"{len(done)} dead letter(s) replayed at {datetime.now().isoformat(timespec='seconds')}")


@app.command()
def replay(
    service: str = typer.Argument(..., help="service name, e.g. order"),
    projection: str = typer.Argument(..., help="its projection, e.g. catalog"),
    swap: bool = typer.Option(
        False, "--swap/--dry-run", help="put the rebuilt model in place of the live one (default: compare)"
    ),
    drop_old: bool = typer.Option(False, "--drop-old", help="with --swap: do not keep the live rows aside"),
    batch_size: int = typer.Option(500, "--batch-size", min=1, help="events per transaction"),
) -> None:
    """Rebuild a read model from offset 0 of its topics and compare it with the live one; --swap puts it in
    place. Exit status: 0 identical or swapped, 1 a dry run found differences, 2 an error."""
    try:
        proj = replay_mod.projection_for(service, projection)
    except LookupError as exc:
        _console().print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    settings = ServiceSettings(service_name=service)

    async def _run() -> replay_mod.ReplayReport:
        db = Database(settings.db_url)
        try:
            return await replay_mod.replay(
                db, proj, bootstrap=settings.kafka_bootstrap_servers, topic_prefix=settings.topic_prefix,
                swap=swap, drop_old=drop_old, batch_size=batch_size,
            )  # fmt: skip
        finally:
            await db.dispose()

    try:
        report = asyncio.run(_run())
    except (LookupError, RuntimeError, TimeoutError) as exc:
        _console().print(f"[red]replay failed: {exc}[/]")
        raise typer.Exit(2) from None
    replay_mod.print_report(report, _console(), service)
    if not report.swapped and not report.identical:
        raise typer.Exit(1)


def _plugins() -> None:
    """Services add their own command groups through the `omni.cli` entry point (channel: `omni shops`)."""
    from importlib.metadata import entry_points

    for ep in entry_points(group="omni.cli"):
        try:
            app.add_typer(ep.load(), name=ep.name)
        except ImportError:  # pragma: no cover - a service installed without its dependencies
            continue


_plugins()

if __name__ == "__main__":  # pragma: no cover
    app()
