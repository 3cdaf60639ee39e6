"""`omni-tools reseal-buyer-data`: after a buyer data key rotation, every order's receiver sealed under the
newest key, page by page through the gateway (`POST /api/order/buyer-data/reseal`, admin only), with rich
progress; stopped, it resumes from `--after` (the last order id it printed)."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from .client import check, gateway


async def reseal_all(
    url: str, api_key: str, *, page: int, after: str | None, console: Console, **client_kw: Any
) -> dict[str, Any]:
    total = {"scanned": 0, "resealed": 0, "key_id": None, "last": after}
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    async with gateway(url, api_key, **client_kw) as client:
        with Progress(*columns, console=console, transient=True) as progress:
            task = progress.add_task("re-sealing", total=None)
            while True:
                body: dict[str, Any] = {"limit": page, "after": total["last"]}
                done = check(await client.post("/api/order/buyer-data/reseal", json=body))
                total["scanned"] += done["scanned"]
                total["resealed"] += done["resealed"]
                total["key_id"] = done["key_id"]
                progress.update(task, description=f"{total['scanned']} orders scanned, {total['resealed']} "
                                f"re-sealed under key {done['key_id']} (after {total['last']})")  # fmt: skip
                if done["next_after"] is None:
                    return total
                total["last"] = done["next_after"]
