"""Safe YAML loading that remembers line numbers, for errors that name file, line and field.

Plans, scenarios, profiles and card files are data: they are loaded with PyYAML's
``SafeLoader`` only (no tags that construct objects), on libyaml's parser when PyYAML has
it; a document it rejects is parsed again by the pure-Python one, whose error messages
and lines are the ones users have always seen. Mappings come back as
:class:`LineDict`, which knows the line of each key, and duplicate keys are an error
(PyYAML would silently keep the last one).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from drivers.errors import ConfigError


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


class _Loader(yaml.SafeLoader):
    pass


#: The same loader on libyaml's parser (six times faster), when PyYAML was built with it.
_CLoader: Any = None
if getattr(yaml, "__with_libyaml__", False):
    _CLoader = type("_CLoader", (yaml.CSafeLoader,), {})


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LineDict:
    loader.flatten_mapping(node)
    out = LineDict()
    out.line = node.start_mark.line + 1
    out.key_lines = {}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        if not isinstance(key, str | int | float | bool) and key is not None:
            raise ConfigError("mapping keys must be plain scalars", line=key_node.start_mark.line + 1)
        skey = str(key)
        if skey in out:
            raise ConfigError(f"duplicate key {skey!r}", line=key_node.start_mark.line + 1)
        out[skey] = loader.construct_object(value_node, deep=True)
        out.key_lines[skey] = key_node.start_mark.line + 1
    return out


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LineList:
    out = LineList(loader.construct_object(child, deep=True) for child in node.value)
    out.line = node.start_mark.line + 1
    out.item_lines = [child.start_mark.line + 1 for child in node.value]
    return out


for _loader in (_Loader, _CLoader):
    if _loader is not None:
        _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
        _loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def load_text(text: str, *, path: str | None = None) -> Any:
    """Parse YAML text safely; a syntax error becomes a :class:`ConfigError` with its line."""
    if _CLoader is not None:
        try:
            return yaml.load(text, Loader=_CLoader)
        except (yaml.YAMLError, ConfigError):
            pass  # the pure-Python parser says what is wrong, in the words it always has
    try:
        return yaml.load(text, Loader=_Loader)
    except ConfigError as exc:
        raise ConfigError(_strip_where(exc), path=path, line=exc.line) from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise ConfigError(f"YAML error: {problem}", path=path, line=line) from exc
    except yaml.YAMLError as exc:
        raise ConfigError(f"YAML error: {exc}", path=path) from exc


def load_file(path: str | Path) -> Any:
    """Read and parse a YAML file; a missing or unreadable file is a :class:`ConfigError`."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise ConfigError(f"{p}: no such file") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{p}: cannot read: {exc}") from exc
    return load_text(text, path=str(p))


def _strip_where(exc: ConfigError) -> str:
    msg = exc.message
    if exc.line is not None and msg.startswith(f"line {exc.line}: "):
        return msg[len(f"line {exc.line}: ") :]
    return msg
