import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

# The order service stores the receiver encrypted (docs/buyer-data.md) and does not start without a key ring:
# the tests' own key (a published test value, never a deployment's), for build() and the use cases on fakes.
TEST_BUYER_DATA_KEYS = "test:b21uaS1vcmRlci10ZXN0cy1idXllci1kYXRhLWtleTE="
os.environ.setdefault("ORDER_BUYER_DATA_KEYS", TEST_BUYER_DATA_KEYS)

from omni_order.domain.buyer_data import parse_key_ring  # noqa: E402
from omni_order.service import records  # noqa: E402

records.use_buyer_keys(parse_key_ring(os.environ["ORDER_BUYER_DATA_KEYS"]))
