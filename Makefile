# bench: two commands do all set-up on a fresh Debian 12 machine with Python 3.11.
#   make demo   a full `bench run` on the simulated bench, report written
#   make test   lint, type-check and the whole test suite (what CI runs)
# System packages are installed when missing (as root) and named when they are.

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

# What the stack needs from Debian: a compiler and headers for pyscard, the PC/SC daemon
# with the virtual reader driver, pcsc-tools (an independent PC/SC client used in tests),
# PostgreSQL for the store tests, Chromium with its WebDriver for the dashboard's browser tests, ser2net (a
# serial server) for the units on remote benches, and a CJK font for Chinese reports and receipt images
# (docs/languages.md).
BUILD_PKGS := gcc libc6-dev libpcsclite-dev
RUN_PKGS   := pcscd vsmartcard-vpcd fonts-wqy-microhei
TEST_PKGS  := pcsc-tools postgresql util-linux chromium chromium-driver ser2net
# Headers and venv for the Python we build with, when that Python is Debian's own.
PY_PKGS    := $(shell $(PYTHON) -c 'import sysconfig, os; print("" if os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")) else "python3-dev")') \
              $(shell $(PYTHON) -c 'import ensurepip' 2>/dev/null || echo python3-venv)

.PHONY: demo test lint typecheck unit-tests bench fuzz sysdeps sysdeps-test clean catalogues catalogues-update screenshot-zh

# The translation catalogues (bench/locale/<lang>/LC_MESSAGES/bench.po, managed with Babel; docs/languages.md):
# `make catalogues` compiles them (demo and test do), `make catalogues-update` extracts the marked texts of
# bench/ and drivers/ (and the texts of the stock plans and scenarios) and adds the new ones to every catalogue, untranslated (the catalogue check fails until
# they are translated).
PO_FILES := $(wildcard bench/locale/*/LC_MESSAGES/bench.po)
MO_FILES := $(PO_FILES:.po=.mo)

demo: $(STAMP) sysdeps $(MO_FILES)
	$(BIN)/bench run testplans/pos-full.yaml --sim --report reports

# The suite mostly waits (card polls, keypad presses, printer pacing, reconnects): its tests run on
# TEST_WORKERS pytest-xdist workers, more than the cores. `make test TEST_WORKERS=0` runs them in one process.
TEST_WORKERS ?= 4

test: $(STAMP) sysdeps sysdeps-test $(MO_FILES) lint typecheck
	$(BIN)/python -m pytest -q -ra -n $(TEST_WORKERS) --dist worksteal

lint: $(STAMP)
	$(BIN)/ruff check bench drivers tests
	$(BIN)/lint-imports
	$(BIN)/python -m bench.i18n.catalogue check

catalogues: $(MO_FILES)

bench/locale/%/LC_MESSAGES/bench.mo: bench/locale/%/LC_MESSAGES/bench.po | $(STAMP)
	$(BIN)/pybabel -q compile -l $* -i $< -o $@

catalogues-update: $(STAMP)
	@mkdir -p build
	$(BIN)/pybabel -q extract -F bench/locale/babel.cfg --no-location --sort-output --project bench -o build/bench.pot bench drivers testplans
	$(BIN)/pybabel -q update -i build/bench.pot -d bench/locale -D bench --no-fuzzy-matching --ignore-obsolete --width 0

typecheck: $(STAMP)
	$(BIN)/mypy

# The README's picture of a Chinese report (docs/img/report-zh.png): two runs of a unit with a flat battery
# in Chinese (the second has a history), its report.html drawn by headless Chromium (Debian's `chromium`).
ZH_SHOT := build/report-zh
screenshot-zh: $(STAMP) sysdeps $(MO_FILES)
	@.ci/sysdeps.sh chromium
	@rm -rf $(ZH_SHOT) && mkdir -p $(ZH_SHOT)
	-BENCH_LANG=zh_CN $(BIN)/bench run testplans/pos-full.yaml --sim --db sqlite:///$(ZH_SHOT)/bench.db --report $(ZH_SHOT)/first >/dev/null
	-BENCH_LANG=zh_CN $(BIN)/bench run testplans/pos-full.yaml --sim --scenario battery-low --db sqlite:///$(ZH_SHOT)/bench.db --report $(ZH_SHOT)/reports >/dev/null
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1100,1500 \
		--screenshot=$(CURDIR)/docs/img/report-zh.png $(ZH_SHOT)/reports/*/report.html 2>/dev/null

fuzz: $(STAMP)
	$(BIN)/python tests/fuzz/fuzz_link.py 1000000
	$(BIN)/python tests/fuzz/fuzz_redact.py 1000000

# Benchmarks (not part of `make test`): our figures against OpenHTF, raw pyscard and the physical
# limits, measured in one run. The `bench` extra (OpenHTF 1.6.3, pyinstrument) is installed when missing.
bench: $(STAMP) sysdeps sysdeps-test
	@$(BIN)/python -c 'import openhtf, pyinstrument' 2>/dev/null || $(BIN)/python -m pip install -q -e '.[test,bench]'
	$(BIN)/python -m benchmarks.run_all

sysdeps:
	@.ci/sysdeps.sh $(BUILD_PKGS) $(RUN_PKGS) $(PY_PKGS)

sysdeps-test:
	@.ci/sysdeps.sh $(TEST_PKGS)

$(STAMP): pyproject.toml | sysdeps
	@test -x $(BIN)/python || (echo "bench: creating $(VENV) with $(PYTHON)" && $(PYTHON) -m venv $(VENV))
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	@touch $(STAMP)

clean:
	rm -rf $(VENV) reports .pytest_cache .mypy_cache .ruff_cache
