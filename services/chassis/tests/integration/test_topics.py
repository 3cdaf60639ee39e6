from __future__ import annotations

import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from omni_chassis.kafka import create_topics

pytestmark = pytest.mark.integration


async def test_a_name_asked_twice_is_created_once_and_really_exists(kafka_bootstrap):
    name = f"omni.test.dup.{uuid.uuid4().hex[:8]}"
    assert await create_topics(kafka_bootstrap, [name, name], 2) == [name]
    assert await create_topics(kafka_bootstrap, [name], 2) == []
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    await admin.start()
    try:
        assert name in await admin.list_topics()
    finally:
        await admin.close()


async def test_a_refused_topic_is_an_error_not_silence(kafka_bootstrap):
    with pytest.raises(RuntimeError, match="bad name!"):
        await create_topics(kafka_bootstrap, ["bad name!"], 1)
