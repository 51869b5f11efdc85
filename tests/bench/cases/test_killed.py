"""A process killed (SIGKILL) while it records repairs leaves whole repair records, never half of one."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
import sqlalchemy as sa

from bench.cases.store import CaseStore
from bench.store.engine import Store, parse_url

ROOT = Path(__file__).resolve().parents[3]

# Records repairs on case C1 as fast as it can; says each index once its record is committed.
_LOOP = """
import sys
from bench.cases.store import CaseStore
from bench.store.connect import open_store

with open_store(sys.argv[1]) as store:
    cases = CaseStore(store)
    i = len(cases.repairs(1))  # carry on where the last killed loop stopped
    while True:
        cases.add_repair(1, "replace", f"repair {i}: " + "x" * 1900 + f" end {i}", part_number=f"P{i}",
                         technician=f"loop-{i}")
        print(i, flush=True)
        i += 1
"""


@pytest.mark.slow
def test_a_killed_process_leaves_only_whole_repair_records(store_url: str) -> None:
    with Store.open(store_url) as store:
        CaseStore(store).open_case("SN-1", "reader")
    said = -1
    for _round in range(3):  # three kills at whatever moment the loop has reached
        proc = subprocess.Popen([sys.executable, "-c", _LOOP, store_url], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        assert proc.stdout is not None
        start = said
        for line in proc.stdout:
            said = int(line)
            if said >= start + 40:
                break
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read() if proc.stderr else ""
        said = _check_whole(store_url, said)


def _check_whole(url: str, said: int) -> int:
    """Every stored repair is whole and numbered without a gap; the new count."""
    engine = sa.create_engine(parse_url(url))
    try:
        with engine.connect() as conn:
            found = conn.execute(sa.text(
                "SELECT note, part_number, technician, action FROM case_repairs ORDER BY id")).all()
    finally:
        engine.dispose()
    assert len(found) >= said + 1  # every record the loop said was committed is there
    for i, (note, part, technician, action) in enumerate(found):
        assert (note, part, technician, action) == (f"repair {i}: " + "x" * 1900 + f" end {i}", f"P{i}",
                                                    f"loop-{i}", "replace")
    with Store.open(url) as store:  # the store still opens, and reads the same
        assert len(CaseStore(store).repairs(1)) == len(found)
    return len(found) - 1
