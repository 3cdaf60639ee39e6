import os

# Services built inside the test process publish to `test.omni.*`, never to the topics of a running stack.
os.environ.setdefault("OMNI_TOPIC_PREFIX", "test.")

pytest_plugins = ["omni_chassis.testing"]
