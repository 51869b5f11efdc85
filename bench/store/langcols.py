"""Schema version 9, the languages' migration: a run's language and translatable texts beside their English.

Rows written before it keep their English only (``lang`` = ``en``, the text columns ``NULL``): their reports
show the messages as stored, in any language (:func:`bench.i18n.stored.revive`).
"""

from __future__ import annotations

from sqlalchemy import Connection, text


def v9(conn: Connection) -> None:
    """Version 8 -> 9: ``runs.lang``, ``runs.summary_text``, ``steps.message_text``, ``measurements.message_text``,
    ``findings.texts``."""
    conn.execute(text("ALTER TABLE runs ADD COLUMN lang VARCHAR(16) NOT NULL DEFAULT 'en'"))
    for table, column in (("runs", "summary_text"), ("steps", "message_text"), ("measurements", "message_text"),
                          ("findings", "texts")):
        conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {column} TEXT"))


__all__ = ["v9"]
