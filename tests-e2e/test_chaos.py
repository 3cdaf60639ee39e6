"""The short chaos run inside `make test`: 1,000 orders through the e2e stack while each service is killed
once with `kill -9` (supervisord brings it back) and 10% of the orders are published twice (webhook resent,
or the `channel.order.received` record re-produced verbatim). No broker or database restart here: those are
shared with every other test; `make chaos` does them on a stack of its own.

Then, order by order: nothing lost, doubled or stuck (see omni_tools.chaos.checks), and the stack is healthy
again for the tests that follow.
"""

from __future__ import annotations

import os

import pytest
from rich.console import Console

from omni_tools.chaos import Config, Stack, print_report, run
from omni_tools.chaos.stack import wait_all_ready

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(420)]


async def test_1000_orders_with_every_service_killed_once_lose_and_double_nothing(e2e_stack):
    stack = Stack(dict(e2e_stack["env"]))  # type: ignore[arg-type]
    seed = os.environ.get("CHAOS_SEED")
    cfg = Config(
        orders=int(os.environ.get("CHAOS_E2E_ORDERS", "1000")),
        seed=int(seed) if seed else None,
        kills_per_service=1,
        kafka_restarts=0,
        pg_restarts=0,
        lag_within=60,
    )
    console = Console(width=180, force_terminal=False)
    try:
        result = await run(stack, cfg, console)
        print_report(result, console)
    finally:
        healthy = await wait_all_ready(stack, 120)
    assert healthy, f"the e2e stack is not ready again after the chaos run: {stack.processes()}"
    lost, duplicated, stuck = result.totals
    failed = [c.name for c in result.checks if not c.ok]
    assert result.ok, (
        f"chaos (seed {result.seed}): lost {lost}, duplicated {duplicated}, stuck {stuck}; "
        f"failing: {failed}; "
        f"dead letters: {dict(result.dlq_errors.most_common(5))}"
    )
