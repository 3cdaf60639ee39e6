"""Omni inventory (IVM)."""
