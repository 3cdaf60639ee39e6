"""Omni finance (FIN)."""
