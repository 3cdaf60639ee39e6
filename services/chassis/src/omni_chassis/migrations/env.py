from omni_chassis.migrate import run_env
from omni_chassis.tables import chassis_metadata

run_env(chassis_metadata)
