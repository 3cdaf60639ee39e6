"""Use-case tests on an in-memory unit of work: no I/O."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from channel_fakes import FakeRepository
from push_helpers import Clock, FakePlatform

from omni_channel import service
from omni_channel.service.worker import PushSignal, PushWorker, WorkerSettings
from omni_chassis.uow import FakeUnitOfWork


@pytest.fixture
def repo() -> FakeRepository:
    return FakeRepository()


@pytest.fixture
def uow(repo: FakeRepository) -> FakeUnitOfWork[FakeRepository]:
    return FakeUnitOfWork(repo)


# -- the stock push -----------------------------------------------------------------------------------
@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def platform() -> FakePlatform:
    return FakePlatform()


@pytest.fixture
def new_uow(repo) -> Callable[[], FakeUnitOfWork]:
    return lambda: FakeUnitOfWork(repo)


@pytest.fixture
def worker(new_uow, platform, clock) -> PushWorker:
    return PushWorker(new_uow, {"tmall": platform}, PushSignal(), WorkerSettings(concurrency=4), clock=clock)


@pytest.fixture
async def shop(new_uow) -> None:
    await service.put_shop(
        new_uow(),
        channel="tmall",
        shop_id="TM-1",
        name="S",
        app_key="app-1",
        secret="s3cret-key",
        active=True,
        session_key="token-1",
    )
