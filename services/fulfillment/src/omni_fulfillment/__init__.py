"""Omni fulfillment."""
