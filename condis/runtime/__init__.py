"""Execution machinery that knows nothing of NDIS objects: the scheduler and the trace hook."""
