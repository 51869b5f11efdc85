"""A started bench host per test, and a way to wait for what it records (no timed assertions)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from drivers.acquirer import AcquirerHost, parse_behaviours_text


def wait_for(predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Poll until ``predicate()`` is truthy (it happens on the host's thread); its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.01)


@pytest.fixture
def make_host() -> Iterator[Callable[..., AcquirerHost]]:
    hosts: list[AcquirerHost] = []

    def make(behaviours: str = "", **kwargs: Any) -> AcquirerHost:
        host = AcquirerHost(parse_behaviours_text(behaviours), **kwargs).start()
        hosts.append(host)
        return host

    yield make
    for host in hosts:
        host.stop()
