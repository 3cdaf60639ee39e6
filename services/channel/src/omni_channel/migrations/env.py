from omni_channel.store import metadata
from omni_chassis.migrate import run_env

run_env(metadata)
