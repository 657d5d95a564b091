"""condis: connection-oriented NDIS (CoNDIS) call management, executable in Python.

Drivers written against the documented DDI run on simulated hosts (:class:`Ndis`); misuse raises
:class:`Violation` naming the rule and the page that states it.
"""

from condis import trace  # noqa: E402  (condis.trace.Recorder)
from condis._status import *  # noqa: F403  (every NDIS_STATUS_* value)
from condis._status import STATUS_NAMES
from condis.constants import *  # noqa: F403
from condis.errors import Violation
from condis.ndis.core import status_name
from condis.ndis.host import Ndis
from condis.ndis.objects import DriverObject, Party, VcHandle
from condis.ndis.objects import SpinLock as NDIS_SPIN_LOCK
from condis.ndis.pnp import Completion
from condis.rules import RULES, Rule
from condis.runtime.scheduler import Event, FifoStrategy, Scheduler, Strategy
from condis.sim import Simulation
from condis.structs import *  # noqa: F403
from condis.wire import Wire, WirePort

__version__ = "0.1.0"

__all__ = [
    "NDIS_SPIN_LOCK", "RULES", "STATUS_NAMES", "Completion", "DriverObject", "Event", "FifoStrategy", "Ndis",
    "Party", "Rule", "Scheduler", "Simulation", "Strategy", "VcHandle", "Violation", "Wire", "WirePort",
    "status_name", "trace",
]
