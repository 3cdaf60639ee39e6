"""Settings from environment variables (pydantic-settings).

Every service reads:
- `KAFKA_BOOTSTRAP_SERVERS` (default `127.0.0.1:9092`);
- `DATABASE_URL`: the PostgreSQL server (default `postgresql://omni:omni@127.0.0.1:5432`); the service's
  own database is `omni_<service>` on it;
- `<SERVICE>_DATABASE_URL` (e.g. `ORDER_DATABASE_URL`): a full URL that overrides the above for one service;
- `<SERVICE>_HTTP_PORT`, `LOG_LEVEL`, `LOG_JSON`, `OTEL_TRACES_FILE`.
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, computed_field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SERVER_URL = "postgresql://omni:omni@127.0.0.1:5432"


def database_for(server_url: str, database: str) -> str:
    """The URL of `database` on the server that `server_url` names (its own path is replaced)."""
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


def asyncpg_url(url: str) -> str:
    """postgresql[+driver]://… -> postgresql+asyncpg://… for SQLAlchemy."""
    scheme, rest = url.split("://", 1)
    return f"postgresql+asyncpg://{rest}" if scheme.startswith("postgres") else url


def plain_url(url: str) -> str:
    """postgresql+asyncpg://… -> postgresql://… for asyncpg/libpq."""
    scheme, rest = url.split("://", 1)
    return f"postgresql://{rest}" if scheme.startswith("postgres") else url


class CommonSettings(BaseSettings):
    """What every process of Omni reads from the environment."""

    model_config = SettingsConfigDict(extra="ignore", env_file=None, populate_by_name=True)

    kafka_bootstrap_servers: str = Field("127.0.0.1:9092", alias="KAFKA_BOOTSTRAP_SERVERS")
    database_url: str = Field(DEFAULT_SERVER_URL, alias="DATABASE_URL")
    log_level: str = Field("INFO", alias="LOG_LEVEL")
    log_json: bool = Field(True, alias="LOG_JSON")
    otel_traces_file: str | None = Field(None, alias="OTEL_TRACES_FILE")
    consumer_group_prefix: str = Field("", alias="OMNI_CONSUMER_GROUP_PREFIX")
    # A namespace for every topic (e.g. "e2e." -> "e2e.omni.order"): several environments on one Kafka.
    topic_prefix: str = Field("", alias="OMNI_TOPIC_PREFIX", pattern=r"^[A-Za-z0-9._-]*$")
    # False: REST and the outbox relay only, no consumer groups (API tests; a read-only replica)
    consumers_enabled: bool = Field(True, alias="OMNI_CONSUMERS_ENABLED")


class ServiceSettings(CommonSettings):
    """One service's settings. Subclass with `service_name` and `http_port` defaults:

    class Settings(ServiceSettings):
        service_name: str = "order"
        http_port: int = 8003
    """

    service_name: str = "service"
    http_host: str = "127.0.0.1"
    http_port: int = 8000
    service_database_url: str | None = None
    outbox_batch_size: int = 500
    consumer_max_attempts: int = 4
    consumer_backoff_s: float = 0.05
    # a transient failure (database or broker restarting) is retried without limit, backing off up to this
    consumer_transient_backoff_max_s: float = Field(5.0, gt=0)
    # /health/ready fails when the oldest unpublished outbox row is older than this
    outbox_max_age_s: float = Field(30.0, gt=0, alias="OMNI_OUTBOX_MAX_AGE_S")
    # an event parked for a fact that never arrives goes to the DLQ after this long
    park_max_age_s: float = Field(6 * 3600.0, gt=0, alias="OMNI_PARK_MAX_AGE_S")
    # How long the broker may hold a consumer's fetch when there is no data. aiokafka keeps one fetch in
    # flight per broker: a partition whose records were just consumed joins the NEXT fetch, so a second
    # event on it can wait this long behind the long poll of the others (one order's events share a key, so
    # a partition). Lower is faster at low load and costs idle fetches (see README, Performance).
    fetch_max_wait_ms: int = Field(100, ge=1, le=5000, alias="OMNI_FETCH_MAX_WAIT_MS")
    # the largest event the broker takes (refused when staged)
    max_event_bytes: int = Field(1_000_000, gt=1024, alias="OMNI_MAX_EVENT_BYTES")
    # durable timers (timers.py): false leaves firing to other replicas; how long an idle loop sleeps at most
    timers_enabled: bool = Field(True, alias="OMNI_TIMERS_ENABLED")
    timer_max_sleep_s: float = Field(5.0, gt=0, le=60, alias="OMNI_TIMER_MAX_SLEEP_S")

    def model_post_init(self, _ctx: object) -> None:
        prefix = self.service_name.upper().replace("-", "_")
        env = os.environ
        if self.service_database_url is None and f"{prefix}_DATABASE_URL" in env:
            self.service_database_url = env[f"{prefix}_DATABASE_URL"]
        if f"{prefix}_HTTP_PORT" in env:
            self.http_port = int(env[f"{prefix}_HTTP_PORT"])
        if f"{prefix}_HTTP_HOST" in env:
            self.http_host = env[f"{prefix}_HTTP_HOST"]

    @computed_field  # type: ignore[prop-decorator]
    @property
    def db_url(self) -> str:
        """The SQLAlchemy (asyncpg) URL of this service's own database."""
        url = self.service_database_url or database_for(self.database_url, f"omni_{self.service_name}")
        return asyncpg_url(url)

    @classmethod
    def env_names(cls) -> set[str]:
        """Every environment variable this service reads (checked against docker-compose.yml)."""
        name = cls.model_fields["service_name"].default.upper().replace("-", "_")
        common = {f.alias for f in CommonSettings.model_fields.values() if f.alias}
        return common | {f"{name}_DATABASE_URL", f"{name}_HTTP_PORT", f"{name}_HTTP_HOST"}
