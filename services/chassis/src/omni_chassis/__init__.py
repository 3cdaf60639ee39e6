"""omni-chassis: the mechanics every Omni service shares, and nothing domain-specific."""
