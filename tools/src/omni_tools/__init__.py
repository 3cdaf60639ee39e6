"""Developer tools for Omni: demo data, the demo, the benchmark. Clients of the gateway, not services."""
