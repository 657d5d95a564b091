"""A simulated wire between NICs on different hosts: the hardware the sample miniports drive.

A :class:`WirePort` is what a miniport finds in MiniportInitParameters.AllocatedResources. The
driver calls ``port.transmit(frame)``; the frame arrives at the other port's receive routine after
the wire's latency, as a DPC at DISPATCH_LEVEL on the receiving host (the NIC's interrupt).
Frames are Python objects; the wire counts them and can be told to lose or delay them.

The explorer's fault injector (:mod:`condis.explore.faults`), when the simulation has one, decides
what happens to each frame and whether the NIC accepts each VC it is asked to program.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from condis.constants import DISPATCH_LEVEL


class WirePort:
    """One end of a wire: one NIC's connection to the medium."""

    __slots__ = ("wire", "name", "host", "on_receive", "owner", "sent", "received")

    def __init__(self, wire: Wire, name: str) -> None:
        self.wire = wire
        self.name = name
        self.host: Any = None
        self.on_receive: Callable[[Any], None] | None = None
        self.owner: Any = None
        self.sent = 0
        self.received = 0

    def attach(self, host: Any, on_receive: Callable[[Any], None], owner: Any = None) -> None:
        """Connect the NIC: ``on_receive(frame)`` runs at DISPATCH_LEVEL on ``host`` for each frame."""
        self.host = host
        self.on_receive = on_receive
        self.owner = owner

    def detach(self) -> None:
        self.on_receive = None

    def program(self) -> bool:
        """Program the NIC for one more VC; False when the hardware refuses (only an injected fault)."""
        refuse = self.wire.refuse_vc
        return refuse is None or not refuse()

    def transmit(self, frame: Any) -> None:
        """Put a frame on the wire toward the other end."""
        self.sent += 1
        self.wire._carry(self, frame)

    def __repr__(self) -> str:
        return f"<WirePort {self.name}>"


class Wire:
    """A point-to-point link with a fixed latency; ``sim`` is the shared :class:`condis.Simulation`."""

    def __init__(self, sim: Any, latency_ns: int = 10_000, name: str = "wire") -> None:
        self.sim = sim
        self.latency_ns = latency_ns
        self.name = name
        self.a = WirePort(self, f"{name}.a")
        self.b = WirePort(self, f"{name}.b")
        self.frames: list[tuple[int, str, Any]] = []
        self.record = False
        self.fault: Callable[[WirePort, Any], list[int]] | None = None
        self.refuse_vc: Callable[[], bool] | None = None
        faults = getattr(sim, "faults", None)
        if faults is not None:
            self.fault = lambda src, frame: faults.frame(self.latency_ns)
            self.refuse_vc = faults.activation

    def _carry(self, src: WirePort, frame: Any) -> None:
        dst = self.b if src is self.a else self.a
        delays = [self.latency_ns] if self.fault is None else self.fault(src, frame)
        if self.record:
            self.frames.append((self.sim.scheduler.now, src.name, frame))
        tracer = self.sim.tracer
        # the label is for traces only: building it costs a frame's string form on every delivery
        label = f"{src.name}->{dst.name}: {frame}" if tracer is not None else ""
        for delay in delays:
            self.sim.scheduler.schedule(delay, self._deliver, (dst, frame), kind="frame",
                                        label=label, host=dst.host, irql=DISPATCH_LEVEL, owner=dst.owner)
            if tracer is not None:
                tracer.frame(src, dst, frame)

    def _deliver(self, dst: WirePort, frame: Any) -> None:
        if dst.on_receive is not None:
            dst.received += 1
            dst.on_receive(frame)
