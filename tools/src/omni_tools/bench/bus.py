"""The bus baseline of this run (omni_chassis.bench_bus, what `make bench-bus` measures), as numbers."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Bus:
    events: int  # the batched chassis run; raw ×2.5, FastStream and per-event chassis ×¼
    raw_produce: float
    raw_consume: float
    faststream: float
    chassis_single: float
    chassis_single_p50_ms: float
    chassis_batched: float
    chassis_batched_p50_ms: float


async def run_bus(events: int) -> Bus:
    from omni_chassis.bench_bus import bench_chassis, bench_faststream, bench_raw
    from omni_chassis.settings import CommonSettings, plain_url

    settings = CommonSettings()
    bootstrap, server = settings.kafka_bootstrap_servers, plain_url(settings.database_url)
    produce, consume = await bench_raw(bootstrap, int(events * 2.5))
    faststream = await bench_faststream(bootstrap, max(events // 4, 1))
    single, single_p50 = await bench_chassis(bootstrap, server, max(events // 4, 1), batched=False)
    batched, batched_p50 = await bench_chassis(bootstrap, server, events, batched=True)
    return Bus(events, produce, consume, faststream, single, single_p50, batched, batched_p50)
