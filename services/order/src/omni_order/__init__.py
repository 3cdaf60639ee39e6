"""Omni order (OMS)."""
