"""Use cases: the one place that orchestrates domain, store and outbox."""
