"""structlog JSON logs, with correlation_id and event_id bound by the consumer wrapper and HTTP middleware.

Buyer phone numbers and addresses never reach a log line: keys that name them are masked.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

_SENSITIVE = re.compile(r"(phone|mobile|tel|address|receiver_(name|state|city|district|town)|id_card)", re.I)


def mask_value(value: Any) -> str:
    s = str(value)
    if len(s) <= 4:
        return "***"
    return s[:2] + "*" * (len(s) - 4) + s[-2:] if len(s) < 12 else s[:3] + "****" + s[-2:]


def _mask(obj: Any) -> Any:
    if isinstance(obj, dict):
        return {k: (mask_value(v) if _SENSITIVE.search(str(k)) and v else _mask(v)) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_mask(v) for v in obj]
    return obj


def mask_pii(_logger: Any, _name: str, event_dict: dict[str, Any]) -> dict[str, Any]:
    return _mask(event_dict)


class _Stderr:
    """Whatever `sys.stderr` is when a line is written (not when logging was configured): a redirected or
    captured stderr gets every line."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(service: str, level: str = "INFO", json: bool = True) -> None:
    processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        mask_pii,
        structlog.processors.format_exc_info,
    ]
    renderer = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer()
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(_Stderr()),  # type: ignore[arg-type]
        cache_logger_on_first_use=True,
    )
    structlog.contextvars.bind_contextvars(service=service)
    # Libraries that use stdlib logging: keep them at WARNING, one line each.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
    for noisy in ("aiokafka", "faststream", "uvicorn.access"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_logger(name: str | None = None) -> Any:
    return structlog.get_logger(name)
