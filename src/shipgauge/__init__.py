"""shipgauge: how your software ships — CI cost, review systems, builds and DORA in one store."""

from shipgauge.errors import ShipgaugeError

__version__ = "0.1.0"

__all__ = ["ShipgaugeError", "__version__"]
