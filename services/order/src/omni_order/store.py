"""Tables, repository, unit of work. The only place that knows SQL."""

from __future__ import annotations

from sqlalchemy.orm import registry
from sqlmodel import SQLModel


class Base(SQLModel, registry=registry()):
    """This service's own metadata (never SQLModel's global one: services share a test process)."""


metadata = Base.metadata
