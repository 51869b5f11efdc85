"""The ``--bench-*`` options: a usage mistake is one line and pytest's usage exit (4), before any test."""

from __future__ import annotations

import pytest

pytest_plugins = ["pytester"]

CASES = [
    (("--bench-sim", "--bench-station", "station.toml"),
     "--bench-sim and --bench-station exclude each other: test the simulated bench or a station"),
    (("--bench-sim", "--bench-scenario", "no-such-scenario"), "unknown scenario 'no-such-scenario'; known: *"),
    (("--bench-sim", "--bench-units", "0"), "--bench-units must be 1 to 16, not 0"),
    (("--bench-units", "2"), "--bench-units needs --bench-sim (a station file says its own slots)"),
    (("--bench-station", "missing.toml"), "missing.toml: no such station file"),
    (("--bench-db", "sqlite:///b.db"), "--bench-db needs a bench: add --bench-sim or --bench-station FILE"),
    (("--bench-sim", "--bench-db", "sqlite:///no-such-folder/b.db"),
     "store sqlite:///no-such-folder/b.db: directory no-such-folder does not exist *"),
    (("--bench-sim", "--bench-db", "mysql://db/bench"), "bad store URL 'mysql://db/bench': unknown scheme *"),
    (("--bench-sim", "-n", "2"), "a bench session runs its tests one at a time on the units: drop -n (pytest-xdist)"),
]


@pytest.mark.parametrize(("args", "message"), CASES, ids=[" ".join(args) for args, _ in CASES])
def test_a_usage_mistake_is_one_line_and_exit_4(pytester: pytest.Pytester, args: tuple[str, ...],
                                                 message: str) -> None:
    pytester.makepyfile(test_example="def test_unit(unit):\n    raise AssertionError('must not run')\n")
    (pytester.path / "station.toml").write_text('name = "s"\n[devices]\nhost = "tcp://127.0.0.1:0"\n')

    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)

    assert result.ret == pytest.ExitCode.USAGE_ERROR
    said = [line for line in result.errlines if line.strip()]
    assert len(said) == 1, result.stderr.str()
    result.stderr.fnmatch_lines([f"ERROR: {message}"])
    assert "must not run" not in result.stdout.str()
    assert "Traceback" not in result.stdout.str() + result.stderr.str()
