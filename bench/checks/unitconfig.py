"""Check ``unit.config``: the unit's configuration against its merchant's profile (issue #18, docs/unit-config.md).

One measurement per setting the profile names (``config.merchant_id``, ``config.network.wifi.ssid``):
the value the unit reports, judged equal to the profile's, failing with CFG-MISSING (not set) or
CFG-MISMATCH (set otherwise) and the difference in a technician's words (``merchant id is not set
(expected 104110070110001)``). With ``write: true`` the bench writes the expected values of the
settings that differ, reads the configuration again and judges what the unit reports then: a setting
the unit refused or did not keep still fails. The check is declared in :mod:`bench.checks.unit`
and imports this module when a plan uses it.
"""

from __future__ import annotations

from pathlib import Path

from bench.checks.base import StepContext
from bench.errors import PlanError
from bench.measure import Limit
from bench.unitconfig.compare import Difference, compare
from bench.unitconfig.profile import MerchantProfile, label, load_profile
from drivers.i18n import N_


def profile_path(ref: str) -> Path:
    """The merchant profile ``ref`` means: a file, or ``NAME`` = ``merchants/NAME.toml`` in a plan folder."""
    from bench import planfind

    path = Path(ref)
    if path.is_file() or not planfind.is_name(ref):
        return path
    file_name = ref if ref.endswith(".toml") else f"{ref}.toml"
    for folder in planfind.plan_dirs():
        if (folder / "merchants" / file_name).is_file():
            return folder / "merchants" / file_name
    raise PlanError(N_("no merchant profile named {ref!r} (a file, or a name in testplans/merchants/; searched "
                       "{folders})", ref=ref, folders=planfind.describe_dirs()))


def _load(ref: object) -> MerchantProfile:
    return load_profile(profile_path(str(ref)))


def check_profile(ref: object) -> None:
    """At plan load: the profile exists and is valid (a mistake is the plan's, exit 2, not the run's)."""
    _load(ref)


def config(ctx: StepContext) -> None:
    """Compare the unit's settings with the merchant profile; with ``write``, set them and check again."""
    profile = _load(ctx.params["profile"])
    expected = profile.settings
    reported = ctx.unit.config_read()
    found = compare(expected, reported)
    who = f"{profile.merchant} ({profile.name})" if profile.merchant else profile.name
    ctx.note(f"merchant profile {who}: {len(expected)} settings, {len(found)} differ")
    ctx.measure("config.differences_found", len(found), judged=False)
    refused: dict[str, str] = {}
    if ctx.params["write"] and found:
        for d in found:
            ctx.note(f"before writing: {d.says()}")
        results = ctx.unit.config_write({d.key: d.expected for d in found})
        for d in found:
            result = results.get(d.key, "no answer")
            if result == "written":
                ctx.note(f"wrote {label(d.key)} = {d.expected}")
            else:
                refused[d.key] = result
                ctx.note(f"the unit did not take {label(d.key)} = {d.expected}: {result}")
        ctx.measure("config.written", len(found) - len(refused), judged=False)
        reported = ctx.unit.config_read()
    for key, want in expected.items():
        got = reported.get(key)
        d = Difference(key, want, got)
        says = d.says()
        if key in refused:
            says = N_("{difference}; writing it failed ({why})", difference=says, why=refused[key])
        elif ctx.params["write"] and got != want:
            says = N_("{difference}; the unit did not keep the value written", difference=says)
        m = ctx.measure(f"config.{key}", "" if got is None else got, limit=Limit(equals=want, fault=d.fault),
                        says=says)
        if not m.passed and not ctx.params["write"]:
            ctx.note(says)
