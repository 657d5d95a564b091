"""The explorer: run a scenario under many schedules and faults, find the one that breaks a rule,
shrink it, and replay it with a trace.

- :mod:`~condis.explore.scenario` what a scenario is and how it is named;
  :mod:`~condis.explore.scenarios` the built-in ones and the two-host bed to build your own on;
- :mod:`~condis.explore.strategies` random walk, PCT and replay at the scheduler's choice point;
  :mod:`~condis.explore.search` bounded exhaustive search with state caching;
- :mod:`~condis.explore.faults` frames lost, duplicated or delayed, allocations failing, VC
  activations refused;
- :mod:`~condis.explore.execute` one schedule, judged; :mod:`~condis.explore.runner` many, on a
  pluggable runner (:mod:`~condis.explore.ray_runner` on Ray); :mod:`~condis.explore.shrink` the
  smallest failing one; :mod:`~condis.explore.schedule` the schedule file.
"""

from condis.explore.execute import Outcome, execute
from condis.explore.faults import Fault, FaultInjector
from condis.explore.ray_runner import RayRunner
from condis.explore.runner import Job, JobResult, LocalRunner, Options, ProcessRunner, Report, Runner, explore, run_job
from condis.explore.schedule import Failure, Schedule
from condis.explore.shrink import replay, shrink
from condis.explore.strategies import Pct, RandomWalk, Replay

__all__ = [
    "Failure", "Fault", "FaultInjector", "Job", "JobResult", "LocalRunner", "Options", "Outcome", "Pct",
    "ProcessRunner", "RandomWalk", "RayRunner", "Replay", "Report", "Runner", "Schedule", "execute", "explore", "replay",
    "run_job", "shrink",
]
