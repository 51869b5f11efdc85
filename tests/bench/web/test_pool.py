"""The dashboard's store pool on a PostgreSQL server that restarts under it."""

from __future__ import annotations

import pytest
from pgcluster import pg_cluster, pg_reason_to_skip
from starlette.testclient import TestClient

from bench.store.engine import Store
from bench.web.app import create_app

pytestmark = pytest.mark.slow


def test_a_page_answers_at_once_after_the_database_restarted() -> None:
    reason = pg_reason_to_skip()
    if reason:
        pytest.skip(reason)
    with pg_cluster() as cluster:
        Store.open(cluster.url).close()
        with TestClient(create_app(cluster.url, interval=3600, workers=1)) as client:
            assert client.get("/lots").status_code == 200  # the worker holds a connection now
            cluster.stop()  # the server cut it
            cluster.start()
            r = client.get("/lots")
            assert r.status_code == 200, r.text  # read again on a new connection, not a 503 for the dead one
