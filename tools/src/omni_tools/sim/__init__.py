"""The local platform simulator (`omni-tools sim`): the sales platforms' open APIs, with their signatures,
and faults on demand. See server.py."""
