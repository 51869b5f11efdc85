"""The one bounded loader every data file goes through: sizes, depth, aliases, numbers, text, merge keys."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers import yamlsafe
from drivers.errors import ConfigError
from drivers.yamlsafe import MAX_BYTES, MAX_DEPTH, MAX_NODES, load_file, load_text, read_bytes


def error(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        load_text(text, path="f.yaml")
    assert "\n" not in str(info.value)
    return info.value


def test_merge_keys_follow_yaml_1_1() -> None:
    data = load_text("a: &a {x: 1, y: 1}\nb: &b {y: 2, z: 2}\nc:\n  <<: [*a, *b]\n  z: 3\n")
    assert data["c"] == {"x": 1, "y": 1, "z": 3}  # the first mapping merged wins; a written key wins over both
    assert data["c"].line_of("z") == 5
    assert load_text("a: &a {n: a}\nb: {<<: *a, n: b}\nc: *a\n")["b"] == {"n": "b"}


def test_a_key_written_twice_is_still_a_duplicate() -> None:
    err = error("a: &a {n: a}\nb:\n  <<: *a\n  n: b\n  n: c\n")
    assert (err.line, str(err)) == (5, "f.yaml:5: duplicate key 'n'")


def test_an_anchored_mapping_with_a_merge_reads_the_same_wherever_it_is_used() -> None:
    data = load_text("x: &x {<<: &base {k: 1}, k: 2}\ny: *x\nz: *base\nw: {<<: *x}\n")
    assert data["x"] == data["y"] == data["w"] == {"k": 2} and data["z"] == {"k": 1}
    assert "'<<' merges a mapping" in str(error("a: {<<: [1, 2]}\n"))
    assert "a value contains itself" in str(error("a: &a {<<: *a}\n"))
    assert load_text("=: 3\n") == {"=": 3}


def test_aliases_within_bounds_still_work() -> None:
    data = load_text("a: &a [1, 2, 3]\nb: [*a, *a, *a]\n")
    assert data["b"] == [[1, 2, 3]] * 3


def test_alias_expansion_is_bounded_and_names_the_line() -> None:
    rows = ["l0: &l0 [x, x, x, x, x, x, x, x, x, x]"]
    rows += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 8)]
    err = error("\n".join(rows) + "\n")
    assert f"more than {MAX_NODES} values once aliases are expanded" in err.message
    assert err.line == 5  # l4: 10**5 values, the first over the bound


def test_a_long_chain_of_two_aliases_is_bounded_too() -> None:
    rows = ["l0: &l0 [x, x]"] + [f"l{i}: &l{i} [*l{i - 1}, *l{i - 1}]" for i in range(1, 60)]
    assert "once aliases are expanded" in error("\n".join(rows) + "\n").message


def test_depth_is_bounded_in_flow_block_and_through_aliases() -> None:
    assert str(error("[" * 50_000 + "]" * 50_000)) == f"f.yaml:1: nested more than {MAX_DEPTH} levels deep"
    assert "levels deep" in error("".join("  " * i + "- \n" for i in range(MAX_DEPTH + 5))).message
    half = MAX_DEPTH // 2 + 2
    text = "a: &a " + "[" * half + "]" * half + "\nb: " + "[" * half + "*a" + "]" * half + "\n"
    assert "levels deep once aliases are expanded" in error(text).message
    assert load_text("[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)) is not None


@pytest.mark.parametrize(("text", "line", "message"), [
    ("a: 1\nb: x\x00y\n", 2, "control character U+0000"),
    ("a: 1\n\x1b[2Jb: 2\n", 2, "control character U+001B"),
    ("a: \x85\n", 1, "control character U+0085"),
    ("a: .nan\n", 1, ".nan is not a finite number"),
    ("a: [1, -.Inf]\n", 1, "-.Inf is not a finite number"),
    ("a: 1.0e+309\n", 1, "not a finite number"),
    ("a:\n  b: " + "1" * 5000 + "\n", 2, "is too long"),
    ("a: 0x" + "f" * 30 + "\n", 1, "is out of range"),
    ("a: " + "x" * 20_000 + "\n", 1, "a text of 20000 characters"),
    ("a: [\n", 2, "YAML error"),
])
def test_bad_documents_are_one_line_errors_with_the_line(text: str, line: int, message: str) -> None:
    err = error(text)
    assert err.line == line and message in err.message, err
    assert str(err).startswith(f"f.yaml:{line}: ")


def test_escapes_in_quoted_text_are_data_not_file_text() -> None:
    assert load_text('a: "\\e]0;x\\a"\n') == {"a": "\x1b]0;x\x07"}  # the reader of the value decides


def test_files_must_be_regular_and_small(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    result: list[BaseException] = []

    def load() -> None:
        try:
            load_file(fifo)
        except ConfigError as exc:
            result.append(exc)

    t = threading.Thread(target=load, daemon=True)
    t.start()
    t.join(10)
    assert not t.is_alive(), "opening a FIFO blocked"
    assert result and "not a regular file" in str(result[0])
    big = tmp_path / "big.yaml"
    big.write_bytes(b"a: 1\n" + b"#" * MAX_BYTES)
    with pytest.raises(ConfigError, match=f"the file is {MAX_BYTES + 5} bytes; the limit is {MAX_BYTES}"):
        load_file(big)
    with pytest.raises(ConfigError, match="not a regular file"):
        read_bytes(tmp_path)
    with pytest.raises(ConfigError, match="no such profile"):
        read_bytes(tmp_path / "none.yaml", what="profile")
    latin = tmp_path / "latin.yaml"
    latin.write_bytes(b"a: 1\nb: caf\xe9\n")
    with pytest.raises(ConfigError, match=r"latin.yaml:2: not UTF-8 text"):
        load_file(latin)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab:-[]{},&*<>!|'\"\\ \n\t#?.0123456789e+\x00\x1b\x85é")), max_size=200))
def test_any_text_loads_or_gives_one_config_error(text: str) -> None:
    try:
        load_text(text, path="f.yaml")
    except ConfigError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("f.yaml"), str(exc)


_CHAIN = "a: &b0 [x, x]\n" + "".join(f"b{i}: &b{i} [*b{i - 1}, *b{i - 1}]\n" for i in range(1, 40))


@pytest.mark.parametrize("text", [
    "a: .nan\n", "a: " + "9" * 500 + "\n", "[" * 50_000 + "]" * 50_000,
    "a:\n" + "".join("  " * i + "- \n" for i in range(1, 80)), "[" * 500 + "]" * 500, _CHAIN,
    "a: &a {<<: *a}\n", "a: b\x00\n", "a: {<<: [1]}\n", "k: 1\nk: 2\n",
])
def test_both_parsers_refuse_alike(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """libyaml's parser (when PyYAML has it) and the pure-Python one: the same one-line error, the same line."""
    with pytest.raises(ConfigError) as fast:
        load_text(text, path="f.yaml")
    monkeypatch.setattr(yamlsafe, "_CLoader", None)
    with pytest.raises(ConfigError) as pure:
        load_text(text, path="f.yaml")
    assert (str(fast.value), fast.value.line) == (str(pure.value), pure.value.line)


def test_a_merge_key_given_a_tagged_set_is_one_config_error(tmp_path: Path) -> None:
    """Found by the plan fuzz test: '<<: !!set {a, b}' crashed the loader with AttributeError."""
    f = tmp_path / "p.yaml"
    f.write_text("plan: x\nactions:\n  <<: !!set {a, b}\n")
    with pytest.raises(ConfigError, match="'<<' merges a mapping") as err:
        load_file(f)
    assert err.value.line == 3
