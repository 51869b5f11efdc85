"""One lot inspected on several benches at once: the database hands out its sample, one place per unit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from bench.lots import sampling
from bench.lots.store import LotStore
from bench.store.engine import Store

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[3]

# One bench: `bench run --sim pos-quick --lot LOT` (bench.run.execute, as the CLI does) on its own unit.
_BENCH = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from bench.errors import UsageError
    from bench.lots.store import LotStore
    from bench.run import RunRequest, execute
    from bench.store.connect import open_store

    url, lot, serial, go = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
    while time.time() < go:
        time.sleep(0.001)
    try:
        rec, _ = execute(RunRequest(plan_file=Path("testplans/pos-quick.yaml"), sim=True, unit_serial=serial,
                                    report_dir=None, db=url, lot=lot))
        outcome = rec.verdict.value
    except UsageError as exc:
        outcome = "refused: " + str(exc)
    with open_store(url) as store:
        decision = LotStore(store).status(lot).lot.decision
    print(json.dumps({"outcome": outcome, "decision": decision}))
    """
)


def test_benches_reaching_the_sample_together_test_exactly_the_sample(store_url: str, many_slots: None) -> None:
    plan = sampling.plan(20, 2.5, "II")  # sample 5, Ac 0, Re 1
    benches = plan.sample_size + 3
    with Store.open(store_url) as store:
        LotStore(store).open_lot("L-RACE", "acme", "PT-300", plan, "testplans/pos-quick.yaml", "ana")
        LotStore(store).status("L-RACE")  # undecided
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    go = time.time() + 3.0
    procs = [subprocess.Popen([sys.executable, "-c", _BENCH, store_url, "L-RACE", f"RACE-{k:02d}", str(go)],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
             for k in range(benches)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0] * benches, [err for _, err in outs]
    said = [json.loads(out.strip().splitlines()[-1]) for out, _ in outs]
    passed = [s for s in said if s["outcome"] == "PASS"]
    refused = [s for s in said if s["outcome"].startswith("refused: ")]
    assert len(passed) == plan.sample_size and len(refused) == benches - plan.sample_size, said
    assert all("L-RACE" in s["outcome"] for s in refused)
    assert {s["decision"] for s in said} <= {None, "ACCEPT"}  # whoever saw a decision saw the one

    with Store.open(store_url) as store:
        status = LotStore(store).status("L-RACE")
        assert status.tested == plan.sample_size and status.defectives == 0
        assert status.lot.decision == "ACCEPT" and status.lot.decided_at is not None
        assert status.not_counted == 0  # a refused bench stored no run
        decided_at = status.lot.decided_at
        assert LotStore(store).status("L-RACE").lot.decided_at == decided_at  # decided once, never again
