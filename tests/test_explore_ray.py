"""Exploration on Ray: a real local Ray instance runs the schedules and finds what one process finds."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from condis.cli import main
from condis.explore import LocalRunner, Options, explore
from condis.explore.cli import runner_for
from condis.explore.ray_runner import RayRunner

DEFERRED = f"{Path(__file__).parent / 'buggy' / 'client_deferred_close.py'}:scenario"

needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                               reason="Ray is not installed: pip install 'condis[ray]' (or pip install ray)")


def outline(report) -> tuple:
    return (report.ran, report.first_failure_at, [(s.seed, s.failure.place, s.choices) for s in report.failures])


@needs_ray
def test_a_local_ray_instance_finds_what_one_process_finds(capsys):
    import ray
    ray.init(runtime_env={"py_modules": [__import__("condis")]}, include_dashboard=False, num_cpus=2,
             logging_level="warning", log_to_driver=False)
    try:
        runner = RayRunner()
        for stop_first, n in ((True, 200), (False, 100)):
            on_ray = explore(DEFERRED, schedules=n, runner=runner, batch=10, stop_first=stop_first,
                             options=Options(coverage=not stop_first))
            here = explore(DEFERRED, schedules=n, runner=LocalRunner(), batch=10, stop_first=stop_first,
                           options=Options(coverage=not stop_first))
            assert outline(on_ray) == outline(here) and on_ray.failures
            assert on_ray.coverage == here.coverage
        assert ray.is_initialized()        # a runner that found Ray running leaves it running
    finally:
        ray.shutdown()
    # the command line: --ray with no address starts a local instance, and stops it afterwards
    assert main(["explore", DEFERRED, "-n", "100", "--ray", "--no-shrink", "-o", "/dev/null"]) == 1
    assert "first failure after 4 schedule(s)" in capsys.readouterr().out
    assert not ray.is_initialized()


def test_the_runner_the_options_ask_for():
    assert type(runner_for(1, None)).__name__ == "LocalRunner"
    assert type(runner_for(3, None)).__name__ == "ProcessRunner"
    ray = runner_for(1, "")
    assert isinstance(ray, RayRunner) and ray.address is None
    assert runner_for(1, "ray://head:10001").address == "ray://head:10001"
    with pytest.raises(ValueError, match="--workers or --ray"):
        runner_for(2, "")
