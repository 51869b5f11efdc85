"""Safe YAML: the same data, lines and errors whichever parser (libyaml or pure Python) reads it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from drivers import yamlsafe
from drivers.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]
_FILES = sorted([*ROOT.glob("testplans/*.yaml"), *ROOT.glob("drivers/sim/scenarios/*.yaml"),
                 *ROOT.glob("drivers/sim/profiles/*.yaml"), *ROOT.glob("stations/*.yaml")])


def _shape(value: object) -> object:
    """Data with the lines of every mapping key and list item, to compare two loads."""
    if isinstance(value, dict):
        return ("map", getattr(value, "line", None), getattr(value, "key_lines", None),
                [(k, _shape(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("list", getattr(value, "line", None), getattr(value, "item_lines", None), [_shape(v) for v in value])
    return value


def _pure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(yamlsafe, "_CLoader", None)


@pytest.mark.skipif(not getattr(yaml, "__with_libyaml__", False), reason="PyYAML without libyaml")
def test_every_shipped_file_loads_the_same_with_lines(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _FILES
    fast = [_shape(yamlsafe.load_file(f)) for f in _FILES]
    _pure(monkeypatch)
    assert fast == [_shape(yamlsafe.load_file(f)) for f in _FILES]


@pytest.mark.parametrize("text", ["a: [1, 2\nb: 3\n", "a: 1\n  b: 2\n", "a: 1\na: 2\n", "steps:\n  - {x: 1, x: 2}\n",
                                  "a: !!python/object:os.system x\n"])
def test_errors_say_what_the_pure_python_parser_says(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ConfigError) as fast:
        yamlsafe.load_text(text, path="p.yaml")
    _pure(monkeypatch)
    with pytest.raises(ConfigError) as pure:
        yamlsafe.load_text(text, path="p.yaml")
    assert (str(fast.value), fast.value.line) == (str(pure.value), pure.value.line)
