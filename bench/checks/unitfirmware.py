"""Firmware checks of the unit (issue #18): flash a signed image over the link, and no update left unfinished.

``unit.firmware_update`` flashes the plan's image through :meth:`drivers.interfaces.Unit.firmware_update`
(docs/protocol.md §5b), shows the transfer on the console (bytes, rate, time left), then judges what
happened: the unit runs the image's version after its restart, no rollback (FW-ROLLBACK), within the
time limit. An image that must not go to this unit is refused before a byte is sent, each with its
fault: damaged or truncated (FW-IMAGE-CORRUPT), a signature none of the plan's keys verifies
(FW-UNTRUSTED-IMAGE: the image's fault, not the unit's), another model or hardware revision (FW-WRONG-MODEL), older than the running version
without ``allow_downgrade`` (FW-DOWNGRADE).

``unit.update_state`` reads FW_STATUS and the event log: a transfer left pending (at intake: an update
that never finished) is FW-UPDATE-FAILED, a last update that rolled back FW-ROLLBACK, one the unit
rejected FW-UPDATE-FAILED (FW-SIGNATURE for a signature), as are the log's failures since the last
update applied.

Files: the image and the public keys are paths (relative to the working directory) or names of files
in ``testplans/firmware/`` (the station's own, then the stock one); a key named ``TEST-ONLY-...`` is
also looked up among the simulator's test keys. The plan names its keys: no key is trusted by default.
A file the plan names that is missing, or a key file that is not an Ed25519 public key, is a plan
error when the plan is loaded; the image's contents are judged when the step runs (a refusal).
"""

from __future__ import annotations

import time
from collections import deque
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench.checks.base import CheckSpec, Param, StepContext
from bench.errors import EquipmentError, PlanError
from bench.measure import Limit
from bench.planfind import plan_dirs
from drivers.codecs import unitcodes
from drivers.firmware.image import MAX_IMAGE, ImageError, parse_image
from drivers.firmware.keys import load_public_key, trusted_keys
from drivers.i18n import N_
from drivers.yamlsafe import read_bytes

#: The folder, in each plan folder, where images and keys are looked up by name.
FIRMWARE_DIR = "firmware"
#: The event log's firmware codes (docs/protocol.md §5b) and the fault of each failure.
LOG_APPLIED = 0x0A01
LOG_FAULTS = {0x0A02: "FW-UPDATE-FAILED", 0x0A03: "FW-SIGNATURE"}
#: Seconds of transfer the rate and time left are measured over (recent enough to follow a resume).
RATE_WINDOW = 3.0
#: The most an image file may be: the format's 64 MiB payload and its header.
MAX_IMAGE_FILE = 64 * 1024 * 1024 + 4096


def find_file(ref: str, what: str) -> Path:
    """The file ``ref`` means: a path, or a name in ``testplans/firmware/`` (or a simulator TEST-ONLY key).

    Raises:
        PlanError: no such file.
    """
    given = Path(ref)
    if given.is_file():
        return given
    if given.name == ref and ref not in ("", ".", ".."):
        candidates = [folder / FIRMWARE_DIR / ref for folder in plan_dirs()]
        if ref.startswith("TEST-ONLY-"):
            from drivers.sim.fwimages import KEY_DIR

            candidates.append(KEY_DIR / ref)
        for candidate in candidates:
            if candidate.is_file():
                return candidate
    raise PlanError(N_("no {what} {ref!r} (a path, or a file in testplans/{folder}/)", what=what, ref=ref,
                       folder=FIRMWARE_DIR))


def _check_image(ref: object) -> None:
    """At plan load: the image file exists (what is in it is judged when the step runs)."""
    path = find_file(str(ref), "firmware image")
    if path.stat().st_size > MAX_IMAGE_FILE:
        raise PlanError(N_("{path}: too big to be a firmware image", path=path))


def _check_keys(refs: object) -> None:
    """At plan load: at least one key, each an Ed25519 public key file."""
    if not isinstance(refs, list) or not refs or not all(isinstance(r, str) and r for r in refs):
        raise PlanError(N_("keys must list the public key files (PEM) the image's signature is checked against"))
    for ref in refs:
        load_public_key(find_file(ref, "public key"))


class _Meter:
    """Follows the transfer: the console's progress (bytes, rate, time left) and the transfer's own time."""

    def __init__(self, ctx: StepContext) -> None:
        self.ctx = ctx
        self.started: float | None = None
        self.first_offset = 0
        self.ended: float | None = None
        self.window: deque[tuple[float, int]] = deque()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if self.started is None:
            self.started, self.first_offset = now, done
        if done >= total and self.ended is None:
            self.ended = now
        window = self.window
        if window and done < window[-1][1]:
            window.clear()  # the unit went back (a transfer begun again): the old figures do not count
        window.append((now, done))
        while len(window) > 2 and now - window[1][0] >= RATE_WINDOW:
            window.popleft()
        t0, d0 = window[0]
        rate = (done - d0) / (now - t0) if now > t0 and done > d0 else 0.0
        left = N_("{clock} left", clock=_clock((total - done) / rate)) if rate else N_("time left unknown")
        self.ctx.progress(done, total, None, N_("{rate:.1f} KiB/s, {left}", rate=rate / 1024, left=left))
        self.ctx.check_cancelled()

    def transfer_s(self) -> float | None:
        """Seconds from the first FW_BEGIN's answer to the unit having the whole payload."""
        return None if self.started is None or self.ended is None else self.ended - self.started


def _clock(seconds: float) -> str:
    s = max(0, round(seconds))
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60}:{s % 60:02d}"


def line_baud(unit: Any) -> int | None:
    """The unit link's line speed when it is a real serial line (a pty or a socket carries bytes at any speed)."""
    import os

    link = getattr(unit, "link", None)
    url, baud = getattr(link, "url", ""), getattr(link, "baudrate", None)
    if not isinstance(baud, int) or not isinstance(url, str) or not url or "://" in url:
        return None
    real = os.path.realpath(url)
    if real.startswith(("/dev/pts/", "/dev/ptmx", "/dev/pty")):
        return None
    return baud


def firmware_update(ctx: StepContext) -> None:
    """Flash the plan's image, confirm the version after the restart; refusals before a byte, rollback, time."""
    p = ctx.params
    path = find_file(str(p["image"]), "firmware image")
    key_files = [find_file(k, "public key") for k in p["keys"]]
    if any(k.name.startswith("TEST-ONLY-") for k in key_files):
        ctx.note("trusting the simulator's TEST-ONLY key: a signature by it proves nothing (test images only)")
    try:
        image = parse_image(read_bytes(path, max_bytes=MAX_IMAGE, what="firmware image"))
    except ImageError as exc:
        # The image does not fit the unit (or is damaged, untrusted): not a verdict on the unit, so ERROR.
        raise EquipmentError(N_("{name}: refused before a byte was sent: {message}", name=path.name,
                                message=exc.message),
                             fault_code=exc.fault_code) from None
    h = image.header
    ctx.note(f"image {path.name}: {h.model} {h.version} for hw {', '.join(h.hw_revisions)}, "
             f"{len(image.payload)} payload bytes")
    ctx.measure("image_version", h.version)
    meter = _Meter(ctx)
    try:
        result = ctx.unit.firmware_update(image, allow_downgrade=bool(p["allow_downgrade"]),
                                          trusted=trusted_keys(list(key_files)), progress=meter,
                                          wait=ctx.budget(float(p["wait"])))
    except ImageError as exc:
        # The image does not fit the unit (or is damaged, untrusted): not a verdict on the unit, so ERROR.
        raise EquipmentError(N_("{name}: refused before a byte was sent: {message}", name=path.name,
                                message=exc.message),
                             fault_code=exc.fault_code) from None
    ctx.note(f"{result.version_before} -> {result.version_after} ({result.boot_reason or 'no BOOT event'}), "
             f"{result.bytes_sent} bytes sent, {result.resumes} resume(s), {result.seconds:.1f} s")
    ctx.measure("version_before", result.version_before)
    ctx.measure("rolled_back", result.rolled_back,
                says=N_("the new firmware {version} did not boot: the unit went back to {version_after}: {detail}",
                        version=h.version, version_after=result.version_after, detail=result.last_detail)
                if result.last_detail else
                N_("the new firmware {version} did not boot: the unit went back to {version_after}", version=h.version,
                   version_after=result.version_after))
    ctx.measure("version_after", result.version_after, judged=not result.rolled_back,
                limit=Limit(equals=h.version, fault="FW-UPDATE-FAILED"),
                says=N_("the unit runs {version_after} after the update, not the image's {version}",
                        version_after=result.version_after, version=h.version))
    limit = float(p["max_seconds"])
    ctx.measure("update_s", round(result.seconds, 2), unit="s", limit=Limit(max=limit, unit="s", fault="FW-UPDATE-FAILED"),
                says=N_("the update took {seconds:.0f} s, more than the {limit:g} s allowed", seconds=result.seconds,
                        limit=limit))
    _measure_transfer(ctx, meter, len(image.payload))
    ctx.measure("resumes", result.resumes)
    ctx.measure("retransmissions", result.retransmissions)


def _measure_transfer(ctx: StepContext, meter: _Meter, total: int) -> None:
    seconds = meter.transfer_s()
    if seconds is None:
        return
    ctx.measure("transfer_s", round(seconds, 2), unit="s")
    rate = (total - meter.first_offset) / seconds if seconds > 0 else 0.0
    ctx.measure("rate_bytes_s", round(rate), unit="B/s")
    baud = int(ctx.params["line_baud"]) or line_baud(ctx.unit)
    if baud:
        ctx.measure("line_rate_pct", round(100.0 * rate / (baud / 10), 1), unit="%")


def update_state(ctx: StepContext) -> None:
    """No update pending or failed: the unit's FW_STATUS, then its event log since the last update applied."""
    status = ctx.unit.firmware_status()
    ctx.note(f"running {status.running_version} from slot {status.active_slot}; update state {status.state}; "
             f"last update {status.last_result}" + (f" ({status.last_detail})" if status.last_detail else ""))
    ctx.measure("running_version", status.running_version)
    ctx.measure("active_slot", status.active_slot)
    ctx.measure("update_pending", status.pending,
                says=N_("an update to {version} was left unfinished ({state}, {received} of {total} bytes)",
                        version=status.pending_version or N_("an unknown version"), state=status.state,
                        received=status.received, total=status.total))
    last_fault = {"rolled-back": "FW-ROLLBACK", "rejected": "FW-UPDATE-FAILED"}.get(status.last_result)
    if last_fault and status.last_detail.startswith("signature"):
        last_fault = "FW-SIGNATURE"
    ctx.measure("last_result", status.last_result, limit=Limit(one_of=("none", "updated", "aborted"),
                                                              fault=last_fault or "FW-UPDATE-FAILED"),
                says=N_("the unit's last update ended {result}: {detail}", result=status.last_result,
                        detail=status.last_detail) if status.last_detail else
                N_("the unit's last update ended {result}", result=status.last_result))
    _log_failures(ctx, rolled_back=status.last_result == "rolled-back")


def _log_failures(ctx: StepContext, *, rolled_back: bool) -> None:
    """Firmware failures in the event log since the last update applied (within ``max_age_hours``)."""
    horizon = datetime.now(UTC) - timedelta(hours=float(ctx.params["max_age_hours"]))
    entries = [e for e in ctx.unit.event_log() if e.code == LOG_APPLIED or e.code in LOG_FAULTS]
    since = [e for e in entries[_last_applied(entries) + 1:] if e.timestamp >= horizon]
    for e in since[-5:]:
        ctx.note(f"log {e.timestamp:%Y-%m-%d %H:%M} {unitcodes.describe(e.code)}{f' - {e.text}' if e.text else ''}")
    faults = {LOG_FAULTS[e.code] for e in since}
    if rolled_back:  # the rollback FW_STATUS reported is the log's update failure: one finding
        faults.discard("FW-UPDATE-FAILED")
    for code in sorted(faults):
        failed = code == "FW-UPDATE-FAILED"
        what = N_("a failed update") if failed else N_("a failed firmware signature check")
        ctx.measure("log.update_failures" if failed else "log.signature_failures",
                    sum(LOG_FAULTS[e.code] == code for e in since), limit=Limit(max=0, fault=code),
                    says=N_("the event log shows {what} since the last update applied", what=what))


def _last_applied(entries: list[Any]) -> int:
    for i in range(len(entries) - 1, -1, -1):
        if entries[i].code == LOG_APPLIED:
            return i
    return -1


CHECKS: tuple[CheckSpec, ...] = (
    CheckSpec(
        "unit.firmware_update",
        firmware_update,
        N_("flash a signed firmware image over the link: refused before a byte when wrong; version after the restart"),
        devices=("unit",),
        params={
            "image": Param(str, help=N_("the image file: a path, or a name in testplans/firmware/"),
                           validate=_check_image),
            "keys": Param(list, help=N_("public key files (PEM) the image's signature must verify against; "
                                     "paths or names in testplans/firmware/ (TEST-ONLY-*: the simulator's)"),
                          validate=_check_keys),
            "allow_downgrade": Param(bool, False, N_("flash an image older than the running firmware")),
            "max_seconds": Param((int, float), 600, N_("the update (transfer, commit, restart) must take at most this"),
                                 bounds=(1, 86400)),
            "wait": Param((int, float), 60,
                          N_("seconds to wait each time the unit restarts (a power cut, the new image)"),
                          bounds=(1, 3600)),
            "line_baud": Param(int, 0, N_("the line's baud rate for the rate in % (0: the link's, when a serial port)"),
                               bounds=(0, 10_000_000)),
        },
        measurements={
            "image_version": None,
            "version_before": None,
            "version_after": None,
            "rolled_back": Limit(equals=False, fault="FW-ROLLBACK"),
            "update_s": None,
            "transfer_s": None,
            "rate_bytes_s": None,
            "line_rate_pct": None,
            "resumes": None,
            "retransmissions": None,
        },
        fault="FW-UPDATE-FAILED",
    ),
    CheckSpec(
        "unit.update_state",
        update_state,
        N_("no firmware update pending or failed: the unit's update state and its event log"),
        devices=("unit",),
        params={"max_age_hours": Param(float, 24.0 * 365, N_("log failures older than this are history"))},
        measurements={
            "running_version": None,
            "active_slot": None,
            "update_pending": Limit(equals=False, fault="FW-UPDATE-FAILED"),
            "last_result": None,
        },
        fault="FW-UPDATE-FAILED",
    ),
)
