"""Use-case tests on an in-memory unit of work: no I/O."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from channel_fakes import FakeRepository

from omni_chassis.uow import FakeUnitOfWork


@pytest.fixture
def repo() -> FakeRepository:
    return FakeRepository()


@pytest.fixture
def uow(repo: FakeRepository) -> FakeUnitOfWork[FakeRepository]:
    return FakeUnitOfWork(repo)
