# The two commands the README promises: `make run` and `make test`.
# Both create the virtual environment on first use; `make test` also installs the
# Debian packages the tests drive (Chromium), with apt-get as root or sudo otherwise.
# `make check` is the developers' fast loop: lint, types and every test that needs no browser,
# no PyInstaller build, no root and no minute-long flood or fuzz run (marked `slow`), spread
# over CHECK_WORKERS processes. `make test` runs everything.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP_RUN := $(VENV)/.installed-run
STAMP_DEV := $(VENV)/.installed-dev
CHECK_WORKERS ?= 4

.PHONY: run test check lint types bench dist clean

run: $(STAMP_RUN)
	$(PY) -m onlinesupport serve

test: $(STAMP_DEV)
	sh scripts/install-system-deps.sh
	$(PY) -m pytest $(PYTEST_ARGS)

# Hypothesis runs its "dev" profile here (fewer examples; CI runs "ci"), and its pytest plugin,
# which only adds reporting options, stays out of the start-up of every worker. Python keeps
# its compiled modules even in a shell that sets PYTHONDONTWRITEBYTECODE: without them every
# worker and every command a test runs compiles the package, and pytest rewrites every test
# file, again at each run (about 5 s of CPU per process).
check: lint types
	HYPOTHESIS_PROFILE=$${HYPOTHESIS_PROFILE:-dev} PYTHONDONTWRITEBYTECODE= \
		$(PY) -m pytest -q -n $(CHECK_WORKERS) \
		--dist worksteal -p no:hypothesispytest \
		-m "not browser and not frozen and not slow" --deselect tests/test_deb.py $(PYTEST_ARGS)

lint: $(STAMP_DEV)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

types: $(STAMP_DEV)
	$(VENV)/bin/mypy

bench: $(STAMP_DEV)
	$(PY) bench/store_write.py
	$(PY) bench/chat_load.py

# The one-folder app in dist/onlinesupport-VERSION-PLATFORM/, a .tar.gz of it, and on Debian
# and Ubuntu the .deb (installer/linux/build-deb.sh).
dist: $(STAMP_DEV)
	$(VENV)/bin/pyinstaller --noconfirm --clean onlinesupport.spec
	cd dist && for app in onlinesupport-*-*/; do tar -czf "$${app%/}.tar.gz" "$${app%/}"; done
	if command -v dpkg-deb >/dev/null 2>&1; then \
		for app in dist/onlinesupport-*-linux-*/; do sh installer/linux/build-deb.sh "$$app" dist; done; \
	fi

$(VENV)/bin/python:
	sh scripts/ensure-venv.sh $(PYTHON) $(VENV)

$(STAMP_RUN): pyproject.toml $(VENV)/bin/python
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $@

$(STAMP_DEV): pyproject.toml $(VENV)/bin/python
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,build]'
	touch $@ $(STAMP_RUN)

clean:
	rm -rf $(VENV) build dist .pytest_cache
