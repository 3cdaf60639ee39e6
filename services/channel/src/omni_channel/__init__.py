"""Omni channel adapters."""
