"""`omni-tools`: seed demo data, run the demo, run the benchmark (all through the gateway)."""

from __future__ import annotations

import asyncio

import typer
from rich.console import Console

from .client import DEFAULT_GATEWAY, DEFAULT_KEY, gateway
from .seed import SIM_URL, seed_platform
from .seed import seed as seed_data
from .waits import wait_for_catalog

app = typer.Typer(help="Omni developer tools: seed, demo, bench.", no_args_is_help=True)


@app.command()
def seed(
    url: str = typer.Option(DEFAULT_GATEWAY, envvar="OMNI_GATEWAY_URL", help="the gateway"),
    api_key: str = typer.Option(DEFAULT_KEY, envvar="OMNI_API_KEY", help="an admin API key"),
    sim_url: str = typer.Option(SIM_URL, envvar="OMNI_SIM_URL", help="the platform simulator ('' : none)"),
) -> None:
    """Load the demo catalog, nodes, stock and Tmall shop (idempotent), and wait until services see them;
    make the platform simulator know the shop and its items (when it answers)."""
    import httpx

    async def _run() -> dict[str, int]:
        async with gateway(url, api_key) as client:
            counts = await seed_data(client)
            if sim_url:
                try:
                    counts |= await seed_platform(client, sim_url)
                except httpx.TransportError as exc:
                    Console().print(f"[yellow]no platform simulator at {sim_url} ({exc!r}): not seeded[/]")
            await wait_for_catalog(client)
            return counts

    counts = asyncio.run(_run())
    Console().print("demo data ready: " + ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items()))


@app.command()
def demo(
    url: str = typer.Option(DEFAULT_GATEWAY, envvar="OMNI_GATEWAY_URL"),
    api_key: str = typer.Option(DEFAULT_KEY, envvar="OMNI_API_KEY"),
    sim_url: str = typer.Option(SIM_URL, envvar="OMNI_SIM_URL", help="the platform simulator"),
) -> None:
    """Send a few signed Tmall orders through the gateway and show each order's journey; then a receipt at a
    store, followed until the simulated Tmall shows the new quantity."""
    from .demo import run_demo

    asyncio.run(run_demo(url, api_key, sim_url))


@app.command("reseal-buyer-data")
def reseal_buyer_data(
    url: str = typer.Option(DEFAULT_GATEWAY, envvar="OMNI_GATEWAY_URL"),
    api_key: str = typer.Option(DEFAULT_KEY, envvar="OMNI_API_KEY", help="an admin API key"),
    page: int = typer.Option(500, min=1, max=5000, help="orders per page (one transaction each)"),
    after: str = typer.Option(None, help="resume after this order id"),
) -> None:
    """After a buyer data key rotation (a new key first in ORDER_BUYER_DATA_KEYS): seal every order's
    receiver under the newest key (and legacy plain ones), page by page; then the old key can go."""
    from .reseal import reseal_all

    console = Console()
    total = asyncio.run(reseal_all(url, api_key, page=page, after=after, console=console))
    done = f"{total['scanned']} orders scanned, {total['resealed']} re-sealed"
    console.print(f"{done}: every receiver is under key {total['key_id']}")


@app.command()
def bench(
    seconds: float = typer.Option(60, "--seconds", "-s", help="webhooks as fast as possible for this long"),
    orders: int = typer.Option(
        0, "--orders", "-n", help="instead of --seconds: this many webhook orders (half as many paced)"
    ),
    kafka_orders: int = typer.Option(10_000, help="orders put straight onto omni.channel.orders"),
    hot_orders: int = typer.Option(1_000, help="reservations of the hot-SKU phase (each scenario)"),
    rules_orders: int = typer.Option(5_000, help="rules phase: orders without and with the 50-rule strategy"),
    paced_seconds: float = typer.Option(0, help="the paced phase's length (0: min(--seconds, 60))"),
    rate: float = typer.Option(0, help="paced phase: orders/s (0: half the sustained maximum measured)"),
    idle_seconds: float = typer.Option(20, help="the quiet window of the idle-CPU phase"),
    bus_events: int = typer.Option(20_000, help="bus baseline: chassis batched events (raw ×2.5, others ×¼)"),
    max_rate: float = typer.Option(
        1_250, help="webhook maximum phase: pre-signs max-rate × seconds requests"
    ),
    concurrency: int = typer.Option(64, help="webhook requests in flight (the connection pool's size)"),
    phases: str = typer.Option(
        "all", help="all, or some of idle,bus,hot,kafka,webhook,paced,rules,rss (in order)"
    ),
    bus: bool = typer.Option(True, help="measure the bus baseline in the same run"),
    via: str = typer.Option("", help="only this load path: webhook (and paced) or kafka; default both"),
    url: str = typer.Option(DEFAULT_GATEWAY, envvar="OMNI_GATEWAY_URL"),
    api_key: str = typer.Option(DEFAULT_KEY, envvar="OMNI_API_KEY"),
) -> None:
    """Every performance target in one run (idle CPU, bus baseline, hot SKU, Kafka intake, webhook maximum,
    latency at half of it, RSS), from the services' own timestamps; one table. Asserts nothing.

    One flow only, as before: e.g. `--phases paced --rate 30 -n 600` (600 webhooks at 30/s) or
    `--phases kafka --kafka-orders 10000`."""
    from .bench import Config, run_bench, select_phases

    try:
        chosen = select_phases(phases, bus=bus, via=via or None)
        cfg = Config(
            url=url,
            api_key=api_key,
            seconds=seconds,
            orders=orders,
            kafka_orders=kafka_orders,
            hot_orders=hot_orders,
            rules_orders=rules_orders,
            paced_seconds=paced_seconds,
            rate=rate,
            idle_seconds=idle_seconds,
            bus_events=bus_events,
            max_rate=max_rate,
            concurrency=concurrency,
            phases=chosen,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    asyncio.run(run_bench(cfg))


@app.command("bench-stock")
def bench_stock(
    seconds: float = typer.Option(45, "--seconds", "-s", help="the loaded latency phase's length"),
    quiet_seconds: float = typer.Option(15, help="the quiet latency phase's length (no orders)"),
    every_ms: float = typer.Option(200, help="one receipt (a stock change) every this many ms"),
    order_rate: float = typer.Option(200, help="orders/s straight onto omni.channel.orders while loaded"),
    hot: int = typer.Option(10_000, help="reservations of the hot-SKU phase, on one material"),
    bus_events: int = typer.Option(10_000, help="bus baseline: chassis batched events"),
    idle_seconds: float = typer.Option(10, help="the idle window (the channel's CPU/RSS baseline)"),
    phases: str = typer.Option("all", help="all, or some of idle,bus,quiet,loaded,hot (in order)"),
    url: str = typer.Option(DEFAULT_GATEWAY, envvar="OMNI_GATEWAY_URL"),
    api_key: str = typer.Option(DEFAULT_KEY, envvar="OMNI_API_KEY"),
    sim_url: str = typer.Option(SIM_URL, envvar="OMNI_SIM_URL", help="the platform simulator"),
) -> None:
    """Stock sync, measured: stock change -> the simulator received the push (p50/p99, quiet and under
    orders), coalescing, hot SKU pushes/s and the number at quiet, the channel service's CPU and RSS. One
    table; asserts nothing."""
    from .bench.stock import StockConfig, run_stock_bench, select

    try:
        cfg = StockConfig(
            url=url,
            api_key=api_key,
            sim_url=sim_url,
            seconds=seconds,
            quiet_seconds=quiet_seconds,
            idle_seconds=idle_seconds,
            every_ms=every_ms,
            order_rate=order_rate,
            hot_n=hot,
            bus_events=bus_events,
            phases=select(phases),
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None
    asyncio.run(run_stock_bench(cfg))


if __name__ == "__main__":
    app()


@app.command()
def sim(
    host: str = typer.Option("127.0.0.1", help="listen here (the simulator never leaves this machine)"),
    port: int = typer.Option(19100, envvar="OMNI_SIM_PORT"),
    seed: int = typer.Option(0, help="the faults' random seed (a run repeats with the same seed)"),
    failure_rate: float = typer.Option(0.0, min=0, max=1, help="share of calls failing (503 or TOP code 10)"),
    timeout_rate: float = typer.Option(0.0, min=0, max=1, help="share of calls held past a client's timeout"),
    latency_ms: float = typer.Option(0.0, min=0, help="added to every platform call"),
    rate_limit: float = typer.Option(0.0, min=0, help="calls/s per app key before TOP code 7 (0: none)"),
    omni_url: str = typer.Option(
        "http://127.0.0.1:8000", envvar="OMNI_SIM_OMNI_URL", help="where it pushes orders, refunds"
    ),
) -> None:
    """Run the local platform simulator (Taobao/Tmall TOP stock APIs; control API under /_sim)."""
    from .sim.server import run
    from .sim.state import Faults

    faults = Faults(failure_rate=failure_rate, timeout_rate=timeout_rate, latency_ms=latency_ms,
                    rate_limit_per_s=rate_limit)  # fmt: skip
    typer.echo(f"platform simulator on http://{host}:{port} (taobao: /taobao/router/rest; control: /_sim)")
    run(host, port, seed, faults, omni_url)
