"""Bounded, safe loading of the bench's data files, with line numbers for errors.

Plans, scenarios, profiles, card files, operator scripts and station files are data, and
may be hostile: every one of them is read here, through one bounded reader.

* :func:`read_bytes` opens regular files only (a FIFO or a device is refused before it can
  block) and refuses a file over :data:`MAX_BYTES`.
* :func:`check_text` refuses NUL and other control characters, naming the line.
* :func:`load_text` parses YAML with PyYAML's ``SafeLoader`` only (no tags that construct
  objects), on libyaml's parser when PyYAML has it (a document it rejects is parsed again by
  the pure-Python one, whose messages and lines are the ones users have always seen). Nesting
  is bounded by :data:`MAX_DEPTH` and the document, with every alias expanded, by
  :data:`MAX_NODES` values (no "billion laughs"). Numbers are finite
  (no ``.nan``/``.inf``) and whole numbers fit in 64 bits; a text is at most
  :data:`MAX_TEXT` characters. Merge keys (``<<: *base``) follow YAML 1.1: keys written
  in the mapping override the merged ones; a key written twice is an error.

Mappings come back as :class:`LineDict`, which knows the line of each key. Every problem is
a one-line :class:`~drivers.errors.ConfigError` naming the file and, where there is one,
the line.
"""

from __future__ import annotations

import math
import os
import re
import stat
from pathlib import Path
from typing import Any

import yaml

from drivers.errors import ConfigError
from drivers.i18n import N_

#: Largest file read (bytes). The biggest shipped plan is under 4 kB.
MAX_BYTES = 1 << 20
#: Deepest nesting of mappings and lists, counting the levels an alias brings in.
MAX_DEPTH = 64
#: Most values (scalars, mappings, lists) in a document once every alias is expanded.
MAX_NODES = 100_000
#: Longest text value or key (characters).
MAX_TEXT = 10_000
#: Longest number as written (characters) and the largest whole number.
MAX_NUMBER_CHARS = 40
MAX_INT = 2**63 - 1

# What PyYAML's reader accepts, less NEL (U+0085): tab, newline, return and printable text.
_BAD_CHAR = re.compile("[^\t\n\r\x20-\x7e\xa0-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_MERGE_TAG = "tag:yaml.org,2002:merge"


class LineDict(dict[str, Any]):
    """A dict from YAML that knows where it and each of its keys stand (1-based lines)."""

    line: int = 0
    key_lines: dict[str, int]

    def line_of(self, key: str) -> int:
        """The line of ``key`` in the source, or of the mapping itself when the key is absent."""
        return self.key_lines.get(key, self.line)


class LineList(list[Any]):
    """A list from YAML that knows the line of each item."""

    line: int = 0
    item_lines: list[int]


def _line(node_or_mark: Any) -> int:
    mark = getattr(node_or_mark, "start_mark", node_or_mark)
    return int(mark.line) + 1


class _Loader(yaml.SafeLoader):
    """SafeLoader whose composer refuses nesting deeper than :data:`MAX_DEPTH` as it goes."""

    _depth = 0

    def compose_node(self, parent: Any, index: Any) -> Any:
        if self._depth >= MAX_DEPTH:
            raise ConfigError(N_("nested more than {MAX_DEPTH} levels deep", MAX_DEPTH=MAX_DEPTH), line=_line(self.peek_event()))
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


#: The same loader on libyaml's parser (six times faster), when PyYAML was built with it. Its
#: composer is libyaml's (nesting capped at 1000 there); the bounds are checked on the graph.
_CLoader: Any = None
if getattr(yaml, "__with_libyaml__", False):
    _CLoader = type("_CLoader", (yaml.CSafeLoader,), {})


def _check_graph(root: yaml.Node) -> None:
    """Refuse a composed document too deep or too big once its aliases are expanded.

    An alias is the same node object as its anchor, so sizes are memoised per node: the walk
    is linear in the nodes written, whatever the aliases multiply them to.
    """
    size: dict[int, int] = {}
    height: dict[int, int] = {}
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    on_path: set[int] = set()
    while stack:
        node, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            kids = _children(node)
            size[key] = 1 + sum(size[id(k)] for k in kids)
            height[key] = 1 + max((height[id(k)] for k in kids), default=0)
            if size[key] > MAX_NODES:
                raise ConfigError(N_("more than {MAX_NODES} values once aliases are expanded", MAX_NODES=MAX_NODES), line=_line(node))
            if height[key] > MAX_DEPTH:
                raise ConfigError(N_("nested more than {MAX_DEPTH} levels deep once aliases are expanded", MAX_DEPTH=MAX_DEPTH),
                                  line=_line(node))
            continue
        if key in size:
            continue
        if key in on_path:  # an alias inside its own anchor (`a: &a [*a]`)
            raise ConfigError(N_("a value contains itself"), line=_line(node))
        on_path.add(key)
        stack.append((node, True))
        stack.extend((k, False) for k in _children(node) if id(k) not in size)


def _check_depth(root: yaml.Node) -> None:
    """Refuse a tree (a document without aliases) nested deeper than :data:`MAX_DEPTH`."""
    stack: list[tuple[yaml.Node, int]] = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise ConfigError(N_("nested more than {MAX_DEPTH} levels deep", MAX_DEPTH=MAX_DEPTH), line=_line(node))
        if not isinstance(node, yaml.ScalarNode):
            stack.extend((kid, depth + 1) for kid in _children(node))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    """A mapping with its lines; merge keys per YAML 1.1, done here without changing the nodes.

    PyYAML's own merging rewrites the merged nodes in place, so an anchored mapping with a merge
    key read twice could change meaning; here every merged mapping is constructed (once, shared)
    and its keys taken where the mapping does not write them: the first mapping merged wins.
    """
    merged = LineDict()
    merged.key_lines = {}
    written: list[tuple[yaml.Node, yaml.Node]] = []
    for key_node, value_node in node.value:
        if key_node.tag != _MERGE_TAG:
            written.append((key_node, value_node))
            continue
        sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
        for source in sources:
            if not isinstance(source, yaml.MappingNode):
                raise ConfigError(N_("'<<' merges a mapping or a list of mappings"), line=_line(source))
            part = loader.construct_object(source, deep=True)
            if not isinstance(part, LineDict):  # a tagged mapping such as !!set {a, b}
                raise ConfigError(N_("'<<' merges a mapping or a list of mappings"), line=_line(source))
            for key, value in part.items():
                if key not in merged:
                    merged[key] = value
                    merged.key_lines[key] = part.line_of(key)
    out = LineDict(merged)
    out.line = _line(node)
    out.key_lines = dict(merged.key_lines)
    seen: set[str] = set()
    for key_node, value_node in written:
        if key_node.tag == "tag:yaml.org,2002:value":  # a plain '=' key is text, as in PyYAML
            key_node.tag = "tag:yaml.org,2002:str"
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise ConfigError(N_("mapping keys must be plain scalars"), line=_line(key_node))
        skey = str(key)
        if skey in seen:
            raise ConfigError(N_("duplicate key {short!r}", short=_short(skey)), line=_line(key_node))
        seen.add(skey)
        out[skey] = loader.construct_object(value_node, deep=True)
        out.key_lines[skey] = _line(key_node)
    return out


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = _line(node)
    out.item_lines = [_line(child) for child in node.value]
    return out


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> int:
    if len(node.value) > MAX_NUMBER_CHARS:
        raise ConfigError(N_("number {short} is too long (at most {MAX_NUMBER_CHARS} characters)", short=_short(node.value), MAX_NUMBER_CHARS=MAX_NUMBER_CHARS),
                          line=_line(node))
    value = yaml.SafeLoader.construct_yaml_int(loader, node)
    if abs(value) > MAX_INT:
        raise ConfigError(N_("number {short} is out of range (at most {MAX_INT})", short=_short(node.value), MAX_INT=MAX_INT), line=_line(node))
    return int(value)


def _construct_float(loader: _Loader, node: yaml.ScalarNode) -> float:
    if len(node.value) > MAX_NUMBER_CHARS:
        raise ConfigError(N_("number {short} is too long (at most {MAX_NUMBER_CHARS} characters)", short=_short(node.value), MAX_NUMBER_CHARS=MAX_NUMBER_CHARS),
                          line=_line(node))
    value = yaml.SafeLoader.construct_yaml_float(loader, node)
    if not math.isfinite(value):
        raise ConfigError(N_("{value} is not a finite number", value=node.value), line=_line(node))
    return float(value)


def _construct_str(loader: _Loader, node: yaml.ScalarNode) -> str:
    value = str(loader.construct_scalar(node))
    if len(value) > MAX_TEXT:
        raise ConfigError(N_("a text of {value_len} characters; the limit is {MAX_TEXT}", value_len=len(value), MAX_TEXT=MAX_TEXT), line=_line(node))
    return value


for _loader in (_Loader, _CLoader):
    if _loader is not None:
        _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
        _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)
        _loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
        _loader.add_constructor("tag:yaml.org,2002:float", _construct_float)
        _loader.add_constructor("tag:yaml.org,2002:str", _construct_str)


def read_bytes(path: str | Path, *, max_bytes: int = MAX_BYTES, what: str = "file") -> bytes:
    """The bytes of a regular file of at most ``max_bytes`` (``what`` names it in errors).

    Raises:
        ConfigError: missing, unreadable, not a regular file (a FIFO, a device, a folder),
            or too big; one line naming the file.
    """
    p = str(path)
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
        fd = os.open(p, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError as exc:
        raise ConfigError(N_("{p}: no such {what}", p=p, what=what)) from exc
    except OSError as exc:
        raise ConfigError(N_("{p}: cannot read {what}: {value}", p=p, what=what, value=exc.strerror or exc)) from exc
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ConfigError(N_("{p}: not a regular file; a {what} must be one", p=p, what=what))
        if st.st_size > max_bytes:
            raise ConfigError(N_("{p}: the {what} is {st_size} bytes; the limit is {max_bytes}", p=p, what=what, st_size=st.st_size, max_bytes=max_bytes))
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        total = 0
        while total <= max_bytes:  # the size may grow while we read: never read past the cap
            chunk = os.read(fd, max_bytes + 1 - total)
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        raise ConfigError(N_("{p}: cannot read {what}: {value}", p=p, what=what, value=exc.strerror or exc)) from exc
    finally:
        os.close(fd)
    if total > max_bytes:
        raise ConfigError(N_("{p}: the {what} is over {max_bytes} bytes", p=p, what=what, max_bytes=max_bytes))
    return b"".join(chunks)


def decode(raw: bytes, *, path: str | None = None) -> str:
    """UTF-8 text of a data file, checked by :func:`check_text`."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(N_("not UTF-8 text (byte 0x{raw:02x})", raw=raw[exc.start]), path=path, line=line) from None
    check_text(text, path=path)
    return text


def read_text(path: str | Path, *, max_bytes: int = MAX_BYTES, what: str = "file") -> str:
    """The checked UTF-8 text of a data file (see :func:`read_bytes` and :func:`check_text`)."""
    return decode(read_bytes(path, max_bytes=max_bytes, what=what), path=str(path))


def check_text(text: str, *, path: str | None = None) -> None:
    """Refuse NUL and other control characters (tab, newline and return are fine), naming the line."""
    bad = _BAD_CHAR.search(text)
    if bad is not None:
        line = text.count("\n", 0, bad.start()) + 1
        raise ConfigError(N_("control character U+{ord:04X} is not allowed in a data file", ord=ord(bad.group())),
                          path=path, line=line)


def load_text(text: str, *, path: str | None = None) -> Any:
    """Parse YAML text safely and within bounds; any problem is a one-line :class:`ConfigError`."""
    if len(text) > MAX_BYTES:
        raise ConfigError(N_("the text is {text_len} characters; the limit is {MAX_BYTES}", text_len=len(text), MAX_BYTES=MAX_BYTES), path=path)
    check_text(text, path=path)
    if _CLoader is not None:
        try:
            return _load(_CLoader, text)
        except (yaml.YAMLError, ConfigError):
            pass  # the pure-Python parser says what is wrong, in the words it always has (bounded too)
    try:
        return _load(_Loader, text)
    except ConfigError as exc:
        raise ConfigError(_strip_where(exc), path=path, line=exc.line) from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(N_("YAML error: {one_line}", one_line=_one_line(problem)), path=path, line=line) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(N_("YAML error: {one_line}", one_line=_one_line(str(exc))), path=path) from exc


def _load(loader_class: Any, text: str) -> Any:
    """Compose, check the bounds of the composed graph, then construct (nothing is built before the check)."""
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        if "*" in text:  # an alias may share nodes: count them expanded
            _check_graph(node)
        else:  # a tree no bigger than the file: only its depth matters
            _check_depth(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def load_file(path: str | Path, *, what: str = "file") -> Any:
    """Read (bounded) and parse a YAML file; every problem is a one-line :class:`ConfigError`."""
    return load_text(read_text(path, what=what), path=str(path))


def kind_of(value: Any) -> str:
    """What a loaded YAML value is, in the words of the file's author: ``a mapping``, ``a list``, ``int``..."""
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def show_value(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut to ``limit`` characters: an error message stays one short line."""
    text = repr(value)
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _one_line(text: str) -> str:
    return _short(" ".join(text.split()), 200)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else f"{text[: limit - 3]}..."


def _strip_where(exc: ConfigError) -> str:
    msg = exc.message
    if exc.line is not None and msg.startswith(f"line {exc.line}: "):
        return msg[len(f"line {exc.line}: ") :]
    return msg
