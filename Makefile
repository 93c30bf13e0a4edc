# tempaug — the commands a reader needs. `make test` is what CI runs (.ci/run).
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
PY     := $(VENV)/bin/python
LOCK   := requirements/constraints.txt
STAMP  := $(VENV)/.installed

.PHONY: env test lint unit notebooks bench repro lock clean

env: $(STAMP)

# Create the virtual environment when missing and install the project under the exact-version lock.
$(STAMP): pyproject.toml $(LOCK)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -c $(LOCK) -e '.[dev]'
	touch $(STAMP)

lint: $(STAMP)
	$(VENV)/bin/ruff check src tests benchmarks notebooks

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

# The whole pipeline (dvc.yaml) on the profile selected in params.yaml; stages print as they run.
repro: $(STAMP)
	. $(VENV)/bin/activate && dvc repro

# Re-resolve the lock from pyproject.toml (run after changing dependencies, then commit the lock).
lock:
	rm -rf /tmp/tempaug-lock && $(PYTHON) -m venv /tmp/tempaug-lock
	/tmp/tempaug-lock/bin/pip install --quiet --upgrade pip
	/tmp/tempaug-lock/bin/pip install --quiet 'torch==2.14.1' 'torchvision==0.29.1' -e '.[dev]'
	/tmp/tempaug-lock/bin/pip freeze --exclude-editable | grep -v '^-e' > $(LOCK)

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
