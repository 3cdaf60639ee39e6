"""Use-case tests on an in-memory unit of work (`FakeUnitOfWork(FakeRepository())`): no I/O."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
