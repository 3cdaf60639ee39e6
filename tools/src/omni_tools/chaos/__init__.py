"""`make chaos`: orders through the whole platform while services die and the broker and database restart;
then proof, order by order, that nothing was lost, doubled or left stuck. See `python -m omni_tools.chaos`."""

from .run import Config, Result, print_report, run
from .stack import Stack, bring_up

__all__ = ["Config", "Result", "Stack", "bring_up", "print_report", "run"]
