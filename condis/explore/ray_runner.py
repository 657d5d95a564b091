"""Schedules on a Ray cluster: ``condis explore ... --ray [ADDRESS]``.

:class:`RayRunner` is a :class:`~condis.explore.runner.Runner`: each job becomes one Ray task
running :func:`~condis.explore.runner.run_job`, a few in flight per CPU of the cluster, and the
results come back as they finish. The explorer takes them in seed order, so a Ray run finds what
``--workers N`` and a run in one process find for the same seeds.

Without an address Ray starts a local instance on this machine (and stops it afterwards); with
one (``ray://head:10001``, ``head:6379`` or ``auto``) it joins that cluster. The condis package
this process imported is shipped to the workers (Ray's ``py_modules``), so they run the same
condis without installing it; the scenario must be importable there too: a built-in name, a
``module:function`` the workers can import, or a ``file.py:function`` at the same absolute path.
Ray is optional: ``pip install 'condis[ray]'``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import condis
from condis.explore.runner import Job, JobResult, run_job


class RayRunner:
    """Jobs as Ray tasks: on a local Ray instance (``address`` None) or on the cluster at ``address``.

    ``per_cpu`` tasks are kept in flight for each CPU the cluster has.
    """

    def __init__(self, address: str | None = None, per_cpu: int = 2) -> None:
        self.address = address
        self.per_cpu = per_cpu

    def map(self, jobs: Iterable[Job]) -> Iterator[JobResult]:
        try:
            import ray
        except ImportError as e:
            raise ImportError("--ray needs Ray: pip install 'condis[ray]' (or pip install ray)") from e
        started = not ray.is_initialized()
        if started:
            ray.init(address=self.address, runtime_env={"py_modules": [condis]}, include_dashboard=False,
                     logging_level="warning", log_to_driver=False)
        remote = ray.remote(_run)
        in_flight = max(1, int(ray.cluster_resources().get("CPU", 1)) * self.per_cpu)
        pending = iter(jobs)
        running: list[Any] = []
        try:
            while True:
                while len(running) < in_flight:
                    job = next(pending, None)
                    if job is None:
                        break
                    running.append(remote.remote(job))
                if not running:
                    return
                done, running = ray.wait(running, num_returns=1)
                for ref in done:
                    yield ray.get(ref)
        finally:
            for ref in running:
                ray.cancel(ref)
            if started:
                ray.shutdown()


def _run(job: Job) -> JobResult:
    return run_job(job)
