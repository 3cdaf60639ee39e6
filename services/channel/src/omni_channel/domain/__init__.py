"""Pure domain logic: no I/O, no framework.

`sign_tmall` is the public signing helper other packages (tests, demo and bench clients) import:

    from omni_channel.domain import sign_tmall
"""

from .errors import InvalidTrade, MalformedPayload, Problem, Unauthorized
from .signing import SIGN_METHODS, format_china_time, sign_tmall

__all__ = [
    "SIGN_METHODS",
    "InvalidTrade",
    "MalformedPayload",
    "Problem",
    "Unauthorized",
    "format_china_time",
    "sign_tmall",
]
