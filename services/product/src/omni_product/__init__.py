"""Omni product (PIM)."""
