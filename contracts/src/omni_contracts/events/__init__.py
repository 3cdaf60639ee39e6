"""Every event payload of Omni. Importing this package registers them all."""

from . import diagnostics

__all__ = ["diagnostics"]
