"""The person at a real station: the ``operator`` fixture asks on the terminal, pytest's capture
set aside (stdin included), and the answers decide the tests."""

from __future__ import annotations

import sys

import pytest
from pluginruns import latest_run

from bench.record import Outcome

pytest_plugins = ["pytester"]

PROMPTS = '''
def test_display_lit(operator):
    assert operator.name == "Dana"
    assert operator.confirm("Is the display lit?", timeout=30.0)

def test_beep(operator):
    assert operator.confirm("Did it beep?", timeout=30.0), "the operator heard no beep"

def test_label(operator):
    assert operator.ask_text("Serial on the label?", timeout=30.0) == "PT3-000777"
'''


def test_the_operator_answers_on_the_terminal(pytester: pytest.Pytester, db_url: str) -> None:
    station = pytester.path / "desk.toml"
    station.write_text('name = "desk"\noperator = "Dana"\n[devices]\nhost = "tcp://127.0.0.1:0"\n')
    pytester.makepyfile(test_prompts=PROMPTS)

    # not a terminal: the operator reads a line per question from stdin
    result = pytester.run(sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--bench-station", str(station),
                          "--bench-db", db_url, stdin=b"y\nn\nPT3-000777\n")

    result.assert_outcomes(passed=2, failed=1)
    assert "reading from stdin while output is captured" not in result.stdout.str()
    result.stderr.fnmatch_lines(["Is the display lit? [[]y/n[]] *"])
    run = latest_run(db_url)
    assert run.operator == "Dana"
    assert [(s.name.split("::")[1], s.outcome, s.message) for s in run.steps] == [
        ("test_display_lit", Outcome.PASS, ""),
        ("test_beep", Outcome.FAIL, "AssertionError: the operator heard no beep"),
        ("test_label", Outcome.PASS, ""),
    ]
