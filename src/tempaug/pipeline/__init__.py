"""The reproduction pipeline's glue: ``params.yaml`` → prepared data → one run → run record.

The notebooks (and ``dvc.yaml``, through them) stay thin by calling these functions:

* :mod:`~tempaug.pipeline.params` — :func:`load_params` reads and checks ``params.yaml`` (its
  ``profile`` is the active profile, Section 4.1); :func:`smoke_params` shrinks it for tests;
* :mod:`~tempaug.pipeline.prepare` — :func:`prepare_data` writes the split tables and the data
  report, :func:`load_prepared` reads them;
* :mod:`~tempaug.pipeline.runs` — :func:`planned_runs` enumerates the experiment matrix of
  Tables 2–7 as :class:`RunSpec` objects, :func:`train_config` and :func:`execute_run` train,
  evaluate and publish one run.

It sits above :mod:`tempaug.analysis` (data → augment → models → train → analysis → pipeline →
notebooks): orchestration, not analysis.
"""

from importlib import import_module
from typing import Any

#: Public name → submodule. Imported on first use, so that ``python -m
#: tempaug.pipeline.executed`` and ``.parallel`` start without pandas or torch.
_EXPORTS = {
    "BENCHMARK_DIRS": "params",
    "PROFILES": "params",
    "PipelineError": "params",
    "check_params": "params",
    "load_params": "params",
    "smoke_params": "params",
    "PreparedData": "prepare",
    "load_prepared": "prepare",
    "prepare_data": "prepare",
    "RunSpec": "runs",
    "SmokeRuns": "runs",
    "ensure_runs": "runs",
    "execute_run": "runs",
    "planned_runs": "runs",
    "run_dir": "runs",
    "smoke_runs": "runs",
    "stage_runs": "runs",
    "train_config": "runs",
}


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        value = getattr(import_module(f"tempaug.pipeline.{_EXPORTS[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tempaug.pipeline' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))


__all__ = [
    "BENCHMARK_DIRS",
    "PROFILES",
    "PipelineError",
    "PreparedData",
    "RunSpec",
    "SmokeRuns",
    "check_params",
    "ensure_runs",
    "execute_run",
    "load_params",
    "load_prepared",
    "planned_runs",
    "prepare_data",
    "run_dir",
    "smoke_params",
    "smoke_runs",
    "stage_runs",
    "train_config",
]
