"""`python -m omni_tools.chaos` (what `make chaos` runs): a stack of its own, faults, checks, a table."""

from __future__ import annotations

import asyncio
import os

import typer
from rich.console import Console

from .run import Config, print_report, run
from .stack import Stack, bring_up

app = typer.Typer(add_completion=False)


@app.command()
def main(
    orders: int = typer.Option(10_000, "--orders", "-n", envvar="CHAOS_ORDERS", help="how many orders"),
    seed: int | None = typer.Option(None, envvar="CHAOS_SEED", help="the faults' RNG seed (default: random)"),
    kills: int = typer.Option(3, envvar="CHAOS_KILLS", help="kill -9 of each service, this many times"),
    kafka_restarts: int = typer.Option(2, envvar="CHAOS_KAFKA_RESTARTS", help="Kafka broker restarts"),
    pg_restarts: int = typer.Option(1, envvar="CHAOS_PG_RESTARTS", help="PostgreSQL restarts"),
    duplicates: float = typer.Option(0.10, help="share of the orders published twice"),
    base_port: int = typer.Option(19000, envvar="CHAOS_BASE_PORT", help="the gateway's port; services next"),
    rate: float | None = typer.Option(
        None, envvar="CHAOS_RATE", help="orders/s (0: flat out; default: slow enough to span the faults)"
    ),
    keep: bool = typer.Option(False, help="leave the chaos stack running afterwards"),
) -> None:
    """Run N orders through a stack of its own (omni_chaos_* databases, ports 19000+, chaos.* topics and
    groups, .data/chaos) while faults are injected; print the faults and the checks; exit 1 unless all 0."""
    from omni_chassis.settings import CommonSettings, plain_url

    console = Console() if Console().is_terminal else Console(width=160)  # tables readable in a log
    common = CommonSettings()
    stack = Stack.namespaced(
        "chaos", base_port, common.kafka_bootstrap_servers, plain_url(common.database_url)
    )
    cfg = Config(orders, seed, kills, kafka_restarts, pg_restarts, duplicates, rate=rate)
    console.print(f"starting the chaos stack (OMNI_RUN_DIR={stack.run_dir}, gateway {stack.gateway}) …")
    try:
        asyncio.run(bring_up(stack, "omni_chaos_"))
        result = asyncio.run(run(stack, cfg, console))
    finally:
        if not keep:
            stack.sh("stop", check=False)
    print_report(result, console)
    if not result.ok:
        console.print(f"[red]chaos: FAILED[/] (logs: {stack.run_dir}/logs/; seed {result.seed})")
        raise typer.Exit(1)
    console.print("[green]chaos: nothing lost, doubled or stuck[/]")


if __name__ == "__main__":
    os.environ.setdefault("LOG_LEVEL", "INFO")
    app()
