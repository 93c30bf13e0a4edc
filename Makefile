# tempaug — the commands a reader needs. `make test` is what CI runs (.ci/run).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
LOCK   := requirements/constraints.txt
STAMP  := $(VENV)/.installed

.PHONY: env test lint unit notebooks bench repro lab lock clean

env: $(STAMP)

# Create the virtual environment when missing and install the project under the exact-version lock.
$(STAMP): pyproject.toml $(LOCK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c $(LOCK) -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks notebooks
	$(VENV)/bin/ruff format --check src tests benchmarks notebooks

unit: $(STAMP)
	$(PY) -m pytest -q tests

# Every notebook executed with its tiny defaults (smoke = True) in this environment's kernel.
notebooks: $(STAMP)
	$(PY) -m pytest -q -p no:cacheprovider --nbval-lax --nbval-current-env notebooks/

test: lint unit notebooks

bench: $(STAMP)
	$(PY) benchmarks/mix.py
	$(PY) benchmarks/augment.py
	$(PY) benchmarks/loader.py
	$(PY) benchmarks/cache.py
	$(PY) benchmarks/train_step.py
	$(PY) benchmarks/pipeline.py
	$(PY) benchmarks/memory.py
	$(PY) benchmarks/validation.py

# The whole pipeline (dvc.yaml) on the profile selected in params.yaml: `dvc repro` with
# independent stages side by side, recorded in dvc.lock as DVC records them. Local slots by
# default (cores / profile.threads on CPU, one per GPU; JOBS=N to override; stages print as they
# run); EXECUTOR=slurm submits each stage as a SLURM job (submitit; resources from
# profile.slurm in params.yaml, or REPRO_ARGS="--slurm-partition gpu --slurm-timeout-min 600").
# KEEP_GOING=1: after a failure, run every stage that does not depend on it.
JOBS ?=
EXECUTOR ?= local
repro: $(STAMP)
	. $(VENV)/bin/activate && python -m tempaug.pipeline.parallel --times results/benchmarks/repro_stages --executor $(EXECUTOR) $(if $(JOBS),--jobs $(JOBS)) $(if $(KEEP_GOING),--keep-going) $(REPRO_ARGS)

# JupyterLab in the project's environment, opened on the notebooks (defaults: tiny smoke runs).
# LAB_ARGS="--no-browser --port 8899" for a remote machine; --allow-root only when run as root.
lab: $(STAMP)
	$(VENV)/bin/jupyter lab --ServerApp.root_dir=. $(if $(filter 0,$(shell id -u)),--allow-root) $(LAB_ARGS) notebooks/

# Re-resolve the lock from pyproject.toml (run after changing dependencies, then commit the lock).
lock:
	rm -rf /tmp/tempaug-lock && $(PYTHON) -m venv /tmp/tempaug-lock
	/tmp/tempaug-lock/bin/pip install --quiet --upgrade pip
	/tmp/tempaug-lock/bin/pip install --quiet 'torch==2.14.1' 'torchvision==0.29.1' -e '.[dev]'
	/tmp/tempaug-lock/bin/pip freeze --exclude-editable | grep -v '^-e' > $(LOCK)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
