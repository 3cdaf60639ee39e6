from omni_chassis.migrate import run_env
from omni_product.store import metadata

run_env(metadata)
