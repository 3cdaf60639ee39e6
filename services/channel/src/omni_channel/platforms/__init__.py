"""Clients of the sales platforms' open APIs (outbound HTTP): adapters around the pure domain rules."""
