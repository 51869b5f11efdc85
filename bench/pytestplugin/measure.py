"""``measure(name, value, min=, max=, equals=, unit=)``: a test's measurement, judged, recorded and shown.

The measurement joins the test's step in the session's run record (and the JUnit XML as a
property); one outside its limits fails the test with the bench's own message for it.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from typing import Any

from bench.measure import Limit, Measurement, judge
from drivers.codecs.pan import redact, redact_data
from drivers.i18n import N_

#: The fault a measurement outside its limits carries when the test names none.
DEFAULT_FAULT = "TEST-FAILED"


class MeasurementFailed(AssertionError):
    """A measurement outside its limits: the test fails with the measurement's message and fault."""

    def __init__(self, measurement: Measurement) -> None:
        super().__init__(redact(measurement.message))
        self.measurement = measurement

    @property
    def fault_code(self) -> str | None:
        """The measurement's fault code (the test's own, else :data:`DEFAULT_FAULT`)."""
        return self.measurement.fault


class Measure:
    """The ``measure`` fixture's callable.

    Args:
        keep: where each measurement goes (the test's step).
        properties: the test item's ``user_properties`` (pytest's JUnit XML writes them).
    """

    def __init__(self, keep: Callable[[Measurement], None], properties: list[tuple[str, object]]) -> None:
        self._keep = keep
        self._properties = properties

    def __call__(
        self, name: str, value: Any, *, min: float | None = None, max: float | None = None,
        equals: Any = None, unit: str | None = None, fault: str | None = None,
    ) -> Measurement:
        """Record ``value`` as measurement ``name``, judged against the limits given; return it.

        Raises:
            MeasurementFailed: the value is outside its limits (the test fails, the value is recorded).
            ValueError: a limit that is not a finite number, ``equals`` NaN, or an empty name (a mistake in the test).
        """
        __tracebackhide__ = True  # a failure points at the test's line, not at this one
        if not isinstance(name, str) or not name.strip():
            raise ValueError(N_("a measurement needs a name, not {name!r}", name=name))
        name = redact(name)  # it is stored, shown and a JUnit property's name
        for label, bound in (("min", min), ("max", max)):
            if bound is not None and (isinstance(bound, bool) or not isinstance(bound, int | float)
                                      or not math.isfinite(bound)):
                raise ValueError(N_("measurement {name}: {label} must be a finite number, not {bound!r}", name=name, label=label, bound=bound))
        if isinstance(equals, float) and math.isnan(equals):  # the test would fail whatever the unit said
            raise ValueError(N_("measurement {name}: equals nan, which no value equals", name=name))
        if min is not None and max is not None and min > max:
            raise ValueError(N_("measurement {name}: min {min} is above max {max}", name=name, min=min, max=max))
        limited = min is not None or max is not None or equals is not None
        limit = Limit(min=min, max=max, equals=equals, unit=unit, fault=fault) if limited else None
        m = judge(name, value, unit=unit, limit=limit, default_fault=fault)
        if not m.passed and m.fault is None:
            # judged without the default fault: its title ("a test of the unit failed") would have
            # been the message of an exact-value limit, instead of the value against it
            m = dataclasses.replace(m, fault=DEFAULT_FAULT)
        # masked as the store keeps it (the reports are written from this copy)
        m = dataclasses.replace(m, value=redact_data(m.value), message=redact(m.message))
        self._keep(m)
        self._properties.append((f"bench.{name}", _property(m)))
        if not m.passed:
            raise MeasurementFailed(m)
        return m


def _property(m: Measurement) -> str:
    """A measurement as one JUnit property value: ``3.91 V (3.6 ≤ x ≤ 4.2 V) pass``."""
    value = f"{m.value:g}" if isinstance(m.value, float) else str(m.value)
    text = f"{value} {m.unit}" if m.unit else value
    if m.limit is not None:
        text += f" ({m.limit.describe()})"
    return redact(f"{text} {'pass' if m.passed else 'FAIL'}")
