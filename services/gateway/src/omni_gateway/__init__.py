"""Omni API gateway."""
