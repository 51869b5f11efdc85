"""The pytest plugin (entry point ``pytest11: bench``): bench's devices, simulator and store for anyone's tests.

``plugin`` holds the hooks; ``options`` the command-line options; ``session`` the bench a test
session uses (simulated or a station file) and a run record per slot; ``fixtures`` the fixtures
named after a station's roles; ``measure`` measurements against limits; ``steps`` a test's
outcome as a step of the run; ``plans`` a YAML plan collected as test items. docs/pytest.md.
"""
