"""Access insight: effective access, explain / who-can, the access delta, policies, lint, audit.

Everything here is pure: functions of resources and profiles, no I/O.
"""

from accessops.access.capability import Capability
from accessops.access.engine import AccessEngine, UnknownCapability

__all__ = ["AccessEngine", "Capability", "UnknownCapability"]
