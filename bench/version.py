"""Comparing firmware versions the way a technician reads them (``2.10.0`` is newer than ``2.9.3``).

The key lives in the drivers (:mod:`drivers.firmware.version`: the unit client refuses downgrades
with it); the harness reads it from there.
"""

from __future__ import annotations

from drivers.firmware.version import is_older, version_key

__all__ = ["is_older", "version_key"]
