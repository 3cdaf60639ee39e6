"""Processes the chassis tests kill: a relay that dies after publishing, a consumer that dies before commit.

python probe_app.py relay-crash <dsn> <bootstrap>
python probe_app.py consume <dsn> <bootstrap> <topic> <group> [hang-on-seq] [marker-file]
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

from sqlalchemy import text

from omni_chassis.consumer import ConsumerSpec
from omni_chassis.db import Database
from omni_chassis.kafka import make_producer
from omni_chassis.outbox import OutboxRelay
from omni_chassis.testing import running_consumers

EFFECTS_DDL = (
    "CREATE TABLE IF NOT EXISTS effects ("
    " pos bigserial PRIMARY KEY, consumer text NOT NULL, event_id uuid NOT NULL,"
    " key text NOT NULL, seq int NOT NULL)"
)


async def record_effect(session, consumer: str, env) -> None:
    await session.execute(
        text("INSERT INTO effects (consumer, event_id, key, seq) VALUES (:c, :e, :k, :s)"),
        {"c": consumer, "e": env.event_id, "k": env.key, "s": env.data.seq},
    )


async def relay_crash(dsn: str, bootstrap: str) -> None:
    producer = make_producer(bootstrap, "omni-test-crashing-relay")
    await producer.start()

    def die(rows) -> None:
        # Kafka has acknowledged every row; the process dies before marking them sent.
        print(f"published {len(rows)}; dying before marking them sent", flush=True)
        os._exit(17)

    await OutboxRelay(dsn, producer, name="test", on_published=die).run()


async def consume(dsn: str, bootstrap: str, topic: str, group: str, hang_seq: int, marker: str) -> None:
    db = Database(dsn)

    async def handler(uow, env) -> None:
        session = uow.session
        await record_effect(session, group, env)
        if env.data.seq == hang_seq:
            await session.flush()
            Path(marker).write_text("effect written, not committed")
            await asyncio.sleep(3600)  # killed here, before the DB commit

    spec = ConsumerSpec(group=group, topics=[topic], handler=handler, session_timeout_ms=6000)
    async with running_consumers(bootstrap, db, [spec]):
        print("consuming", flush=True)
        await asyncio.Event().wait()


if __name__ == "__main__":
    mode, args = sys.argv[1], sys.argv[2:]
    if mode == "relay-crash":
        asyncio.run(relay_crash(*args))
    else:
        dsn, bootstrap, topic, group = args[:4]
        hang = int(args[4]) if len(args) > 4 else -1
        marker = args[5] if len(args) > 5 else "/dev/null"
        asyncio.run(consume(dsn, bootstrap, topic, group, hang, marker))
