"""`make bench`: every performance target in one run, one table (see run.py for the phases).

- stats: the arithmetic (pure); procs: /proc (CPU, RSS); orders: the load, built and signed beforehand;
- push: sending it (aiohttp, Kafka); watch: the services' own timestamps; hot: the hot-SKU phase;
- bus: the bus baseline; table: the one table (its rows are pure); run: the phases in order.
"""

from .orders import MATERIALS_OF, TOPUP_NODES, Pacer, build_orders, demand, iter_orders, top_up
from .run import PHASES, Config, run_bench, select_phases
from .stats import fmt_pcts, fmt_rate, latencies_ms, percentile, rate, sustained
from .watch import Seen, db_url, watch

__all__ = [
    "MATERIALS_OF",
    "PHASES",
    "TOPUP_NODES",
    "Config",
    "Pacer",
    "Seen",
    "build_orders",
    "db_url",
    "demand",
    "fmt_pcts",
    "fmt_rate",
    "iter_orders",
    "latencies_ms",
    "percentile",
    "rate",
    "run_bench",
    "select_phases",
    "sustained",
    "top_up",
    "watch",
]
