"""Fixtures for the pytest plugin's tests: run pytest on a small test module in a subprocess (the
plugin loads through the installed package's entry point); tests/pluginruns.py reads back what
it stored and printed.

Each test module declares ``pytest_plugins = ["pytester"]`` itself (a conftest below the top
one may not).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pluginruns import RunBench


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """The store the inner pytest session writes to."""
    return f"sqlite:///{tmp_path / 'b.db'}"


@pytest.fixture
def run_bench(pytester: pytest.Pytester, db_url: str) -> RunBench:
    """``run_bench(*args)``: pytest on the pytester folder with ``--bench-sim`` and the test's store."""

    def run(*args: str) -> pytest.RunResult:
        return pytester.runpytest_subprocess("-p", "no:cacheprovider", "--bench-sim", "--bench-db", db_url, *args)

    return run
