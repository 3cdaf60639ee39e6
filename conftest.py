pytest_plugins = ["omni_chassis.testing"]
