from omni_chassis.migrate import run_env
from omni_order.store import metadata

run_env(metadata)
