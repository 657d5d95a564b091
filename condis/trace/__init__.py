"""Recording what happened in a run, and drawing it (lanes in a terminal)."""

from condis.trace.recorder import Record, Recorder

__all__ = ["Record", "Recorder"]
