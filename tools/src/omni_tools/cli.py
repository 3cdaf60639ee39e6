"""`omni-tools`: seed demo data, run the demo, run the benchmark (all through the gateway)."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console

from .client import DEFAULT_GATEWAY, DEFAULT_KEY, gateway
from .seed import seed as seed_data
from .waits import wait_for_catalog

app = typer.Typer(help="Omni developer tools: seed, demo, bench.", no_args_is_help=True)


@app.command()
def seed(
    url: str = typer.Option(DEFAULT_GATEWAY, envvar="OMNI_GATEWAY_URL", help="the gateway"),
    api_key: str = typer.Option(DEFAULT_KEY, envvar="OMNI_API_KEY", help="an admin API key"),
) -> None:
    """Load the demo catalog, nodes, stock and Tmall shop (idempotent), and wait until services see them."""

    async def _run() -> dict[str, int]:
        async with gateway(url, api_key) as client:
            counts = await seed_data(client)
            await wait_for_catalog(client)
            return counts

    counts = asyncio.run(_run())
    Console().print("demo data ready: " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items()))


@app.command()
def demo(
    url: str = typer.Option(DEFAULT_GATEWAY, envvar="OMNI_GATEWAY_URL"),
    api_key: str = typer.Option(DEFAULT_KEY, envvar="OMNI_API_KEY"),
) -> None:
    """Send a few signed Tmall orders through the gateway and show each order's journey."""
    from .demo import run_demo

    asyncio.run(run_demo(url, api_key))


@app.command()
def bench(
    orders: int = typer.Option(10_000, "--orders", "-n", help="how many signed orders to push"),
    concurrency: int = typer.Option(64, help="webhook requests in flight"),
    url: str = typer.Option(DEFAULT_GATEWAY, envvar="OMNI_GATEWAY_URL"),
    api_key: str = typer.Option(DEFAULT_KEY, envvar="OMNI_API_KEY"),
    bus: bool = typer.Option(True, help="also measure the bus baseline (make bench-bus) in the same run"),
    rate: float = typer.Option(0, help="orders per second to send at (0: as fast as possible); for latency"),
    via: str = typer.Option(
        "webhook", help="webhook: signed HTTP through the gateway; kafka: straight onto omni.channel.orders"
    ),
) -> None:
    """Push N signed orders and report throughput and latency from the services' own timestamps."""
    from .bench import run_bench

    if via not in ("webhook", "kafka"):
        raise typer.BadParameter("--via is webhook or kafka")
    asyncio.run(run_bench(url, api_key, orders, concurrency, bus, via, rate))


if __name__ == "__main__":
    app()
