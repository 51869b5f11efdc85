"""The one connection interface the store's plain SQL runs on: ``sqlite3`` or SQLAlchemy behind it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, Protocol


class Reads(Protocol):
    """What the queries need of a connection (``:name`` parameters)."""

    def query(self, sql: str, params: Mapping[str, Any]) -> Sequence[Sequence[Any]]:
        """Run a SELECT; all its rows."""

    def time(self, t: datetime) -> Any:
        """An aware time as this database stores it."""


class Db(Reads, Protocol):
    """One database connection, as the store's plain SQL needs it (``:name`` parameters)."""

    url: str
    #: Appended to a SELECT to lock the rows it reads until the transaction ends ('' where writers are serial).
    row_lock: str

    def execute(self, sql: str, params: Mapping[str, Any]) -> int:
        """Run one statement; the number of rows it changed."""

    def insert(self, sql: str, params: Mapping[str, Any]) -> int:
        """Run one INSERT into a table with an integer ``id``; the new row's id."""

    def executemany(self, sql: str, params: Sequence[Mapping[str, Any]]) -> None:
        """Run one statement for each parameter set."""

    def write(self) -> AbstractContextManager[None]:
        """One write transaction (holding the write lock on SQLite), committed on exit."""

    def read(self) -> AbstractContextManager[None]:
        """One read transaction (a consistent snapshot)."""


def in_list(values: Sequence[Any], prefix: str = "v") -> tuple[str, dict[str, Any]]:
    """``values`` as the inside of an SQL ``IN (...)``: the ``:name`` marks and their parameters."""
    params = {f"{prefix}{i}": value for i, value in enumerate(values)}
    return ", ".join(f":{name}" for name in params), params
