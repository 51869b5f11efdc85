"""The behaviour file: what it says, and one ConfigError naming file, line and field per problem."""

from __future__ import annotations

import pytest

from drivers.acquirer import load_behaviours
from drivers.errors import ConfigError

GOOD = """\
default: {answer: decline, code: "05"}
rules:
  - name: low funds on this BIN
    card: ["541333", "222300"]
    answer: decline
    code: "51"
  - aid: A000000333
    amount_min: 100
    amount_max: 200
    answer: late
    delay: 2.5
  - mti: ["0400", "0401"]
    answer: never
    expect_reversal: false
"""


def _load(tmp_path, text):
    path = tmp_path / "host.yaml"
    path.write_text(text)
    return load_behaviours(path)


def test_a_good_file(tmp_path):
    b = _load(tmp_path, GOOD)
    assert b.choose("0100", pan="2223000048400011").describe() == "decline 51"
    assert b.choose("0100", aid="A0000003330101", amount=150).describe() == "late 2.5s 00"
    assert b.choose("0100", aid="A0000003330101", amount=250).describe() == "decline 05"  # the default
    assert b.choose("0400").answer == "never" and not b.choose("0400").expect_reversal
    assert b.choose("0800").describe() == "approve"  # the default is for authorisations
    assert b.choose("0100", aid="A0000003330101", amount=150).expect_reversal


def test_an_empty_file_approves(tmp_path):
    assert _load(tmp_path, "").choose("0100").describe() == "approve"


@pytest.mark.parametrize(("text", "line", "field"), [
    ("rules:\n  - answer: explode\n", 2, "rules[0].answer"),
    ("rules:\n  - answer: decline\n    code: 51\n", 3, "rules[0].code"),
    ("rules:\n  - answer: late\n", 2, "rules[0].delay"),
    ("rules:\n  - answer: late\n    delay: 9999\n", 3, "rules[0].delay"),
    ("rules:\n  - answer: approve\n    delay: 1\n", 3, "rules[0].delay"),
    ("rules:\n  - answer: approve\n  - card: 4761\n    answer: approve\n", 3, "rules[1].card"),
    ("rules:\n  - answer: approve\n    nth: 0\n", 3, "rules[0].nth"),
    ("rules:\n  - answer: approve\n    mti: \"0200\"\n", 3, "rules[0].mti"),
    ("rules:\n  - answer: approve\n    amount: -5\n", 3, "rules[0].amount"),
    ("rules:\n  - answer: approve\n    colour: red\n", 3, "rules[0].colour"),
    ("rules:\n  - just text\n", 2, "rules[0]"),
    ("default: maybe\n", 1, "default.answer"),
    ("defaults: approve\n", 1, "defaults"),
])
def test_each_problem_names_file_line_and_field(tmp_path, text, line, field):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, text)
    assert err.value.path == str(tmp_path / "host.yaml")
    assert (err.value.line, err.value.field) == (line, field)
    assert f"host.yaml:{line}:" in str(err.value)
