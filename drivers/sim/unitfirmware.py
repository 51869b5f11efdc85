"""The simulated unit's firmware: two slots, the update commands, and what a reboot does to them.

docs/protocol.md §5b from the unit's side. The running image is in the active slot (A or B); an
update is written into the other one. FW_BEGIN checks the image's header as a real unit would
(model, hardware revision, a signature by a trusted key, no downgrade unless allowed) and
resumes a transfer of the same header where it stopped; FW_CHUNK writes in order; FW_COMMIT
checks the whole payload's hash and the signature, then asks the link session to restart the
unit, and :meth:`Firmware.boot` decides at the restart whether the new image came up (BOOT reason
``update``) or not (``rollback``: the profile's ``firmware_update.boot_fails``).

What is written lives in flash: it survives the unit's own reboots and power cuts (this object
lives as long as the simulated unit's process). A session number lives in RAM: a restart ends it,
and FW_STATUS then shows the transfer pending with session 0.

Faults (profile ``faults:``): ``fw_link_drop_every: N`` (every N-th FW_CHUNK request is lost: the
unit neither writes nor answers it, so the host retransmits) and ``fw_power_cut_at: BYTES`` (once
that many payload bytes are written the power fails before the answer goes out; the unit comes
back after ``boot_time`` with BOOT reason ``power_on``, keeping what it wrote; once per process).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from drivers import fwproto as fw
from drivers.codecs.linkframe import ERR_BAD_PAYLOAD, ERR_BUSY
from drivers.errors import ConfigError, ProtocolError
from drivers.firmware.image import SIGNATURE_LEN, FirmwareImage, ImageError, ImageHeader, parse_header, verify_image
from drivers.firmware.keys import trusted_keys
from drivers.firmware.version import is_older

_LOG = logging.getLogger(__name__)

#: The simulator's TEST-ONLY public key: what a simulated unit trusts unless its profile names others.
TEST_KEY = Path(__file__).parent / "firmware" / "TEST-ONLY-signing-key.pub.pem"


class FwRefused(Exception):
    """A firmware command the unit refuses: ``code`` is the ERROR code (0x02 bad, 0x03 busy, 0x04 refused)."""

    def __init__(self, code: int, text: str) -> None:
        super().__init__(text)
        self.code = code


class Firmware:
    """The unit's A/B slots and its update state, from the validated profile.

    Args:
        profile: the unit's validated profile (``firmware``, ``model``, ``hw_revision``,
            ``firmware_update``, ``faults``).
    """

    def __init__(self, profile: Mapping[str, Any]) -> None:
        spec = profile["firmware_update"]
        self.model = str(profile["model"])
        self.hw_revision = str(profile["hw_revision"])
        self.running = str(profile["firmware"])
        self.active = "A"
        self.boot_fails = bool(spec["boot_fails"])
        self._key_files = [Path(p) for p in spec["trusted_keys"]] or [TEST_KEY]
        self._trusted: dict[bytes, bytes] | None = None
        self.drop_every: int = profile["faults"]["fw_link_drop_every"] or 0
        self.power_cut_at: int | None = profile["faults"]["fw_power_cut_at"]
        self.state = "idle"
        self.session = 0
        self._sessions = 0
        self._begin: bytes | None = None  # the header and signature of the transfer in the inactive slot
        self._header: ImageHeader | None = None
        self.pending_version = ""
        self.slot = bytearray()  # the inactive slot, as far as it is written
        self.total = 0
        self.last_result = "none"
        self.last_detail = ""
        self._chunks = 0
        self._booting_into: str | None = None
        self.power_cut = False
        """Set when a chunk reached ``fw_power_cut_at``: the link session cuts the power (once)."""
        pending = spec["pending"]
        if pending is not None:  # an update that never finished before the unit came in
            self.pending_version = str(pending["version"])
            self.total = int(pending["total"])
            self.slot = bytearray(int(pending["received"]))
            self.state = "ready" if len(self.slot) == self.total else "receiving"

    # ------------------------------------------------------------------ what the link session asks

    def drop_chunk(self) -> bool:
        """Count an FW_CHUNK request; True when the ``fw_link_drop_every`` fault loses this one."""
        self._chunks += 1
        return bool(self.drop_every) and self._chunks % self.drop_every == 0

    def boot(self, reason: str) -> tuple[str, tuple[int, str, str] | None]:
        """The unit restarts: end the session; after a commit, run the new image or roll back.

        Returns the BOOT reason to report and an event-log entry (code, severity, text) or None.
        """
        self.session = 0
        target, self._booting_into = self._booting_into, None
        if target is None or reason != "update":
            return reason, None
        if self.boot_fails:
            self.last_result, self.last_detail = "rolled-back", f"{target} did not boot (watchdog)"
            _LOG.info("firmware %s did not boot: back on %s", target, self.running)
            return "rollback", (0x0A02, "error", f"firmware update to {target} failed: rolled back to {self.running}")
        before, self.running = self.running, target
        self.active = "B" if self.active == "A" else "A"
        self.last_result, self.last_detail = "updated", f"{before} -> {target}"
        return "update", (0x0A01, "info", f"firmware {target} installed (was {before})")

    # ------------------------------------------------------------------ the commands

    def begin(self, payload: bytes, busy: bool) -> bytes:
        """FW_BEGIN: check the header; answer the session, the offset wanted first, the payload length."""
        try:
            request = fw.FwBegin.decode(payload)
            header, header_bytes, signature = parse_header(request.header_and_signature)
        except (ProtocolError, ImageError) as exc:
            raise FwRefused(ERR_BAD_PAYLOAD, f"FW_BEGIN: {exc}") from exc
        if busy:
            raise FwRefused(ERR_BUSY, "a test sale is running")
        if header.model != self.model:
            self._refuse(f"model: the image is for {header.model}, this unit is a {self.model}")
        if self.hw_revision not in header.hw_revisions:
            self._refuse(f"hardware: the image fits hw {', '.join(header.hw_revisions)}, this unit is hw "
                         f"{self.hw_revision}")
        self._check_signature(header, header_bytes, signature)
        if is_older(header.version, self.running) and not request.allow_downgrade:
            self._refuse(f"downgrade: {header.version} is older than the running {self.running}")
        if request.header_and_signature != self._begin:  # another image: the partial one goes
            self._begin, self._header = request.header_and_signature, header
            self.slot = bytearray()
            self.total = header.payload_length
            self.pending_version = header.version
        self._sessions = self._sessions % 0xFFFFFFFF + 1
        self.session = self._sessions
        self.state = "ready" if len(self.slot) == self.total else "receiving"
        _LOG.debug("FW_BEGIN %s: session %d from offset %d of %d", header.version, self.session,
                   len(self.slot), self.total)
        return fw.FwBeginAnswer(self.session, len(self.slot), self.total).encode()

    def chunk(self, payload: bytes) -> bytes:
        """FW_CHUNK: write the data when it is at the offset wanted; answer the offset wanted now."""
        try:
            request = fw.FwChunk.decode(payload)
        except ProtocolError as exc:
            raise FwRefused(ERR_BAD_PAYLOAD, str(exc)) from exc
        self._check_session(request.session, "FW_CHUNK")
        if not request.data or request.offset + len(request.data) > self.total:
            raise FwRefused(ERR_BAD_PAYLOAD, f"FW_CHUNK: {len(request.data)} bytes at {request.offset} do not fit "
                                             f"a payload of {self.total}")
        if request.offset == len(self.slot):
            self.slot += request.data
            if len(self.slot) == self.total:
                self.state = "ready"
            if self.power_cut_at is not None and len(self.slot) >= self.power_cut_at:
                self.power_cut_at = None
                self.power_cut = True
        return fw.encode_offset(len(self.slot))

    def status(self, payload: bytes) -> bytes:
        """FW_STATUS: the transfer, the running image, how the last update ended."""
        return fw.FwStatus(self.state, self.session, len(self.slot), self.total, self.pending_version,
                           self.running, self.active, self.last_result, self.last_detail).encode()

    def commit(self, payload: bytes) -> bytes:
        """FW_COMMIT: check the whole payload, mark the new slot to boot (the link session restarts the unit)."""
        session = self._session_of(payload, "FW_COMMIT")
        self._check_session(session, "FW_COMMIT")
        if self.state != "ready" or self._header is None or self._begin is None:
            raise FwRefused(ERR_BAD_PAYLOAD, f"FW_COMMIT: {len(self.slot)} of {self.total} bytes received")
        header, begin = self._header, self._begin
        if hashlib.sha256(self.slot).digest() != header.payload_sha256:
            self._drop("rejected", f"{header.version}: payload hash differs")
            self._refuse("hash: the payload's SHA-256 differs from the header's")
        try:
            self._check_signature(header, begin[:-SIGNATURE_LEN], begin[-SIGNATURE_LEN:])
        except FwRefused:
            self._drop("rejected", f"{header.version}: signature")
            raise
        self._booting_into = header.version
        self._drop(self.last_result, self.last_detail)
        return b""

    def abort(self, payload: bytes) -> bytes:
        """FW_ABORT: drop the transfer of this session (0: one left pending by a restart)."""
        session = self._session_of(payload, "FW_ABORT")
        if self.state == "idle":
            return b""
        self._check_session(session, "FW_ABORT")
        self._drop("aborted", f"{self.pending_version}: aborted by the host")
        return b""

    # ------------------------------------------------------------------ internals

    @staticmethod
    def _refuse(text: str) -> None:
        raise FwRefused(fw.ERR_REFUSED, text)

    @staticmethod
    def _session_of(payload: bytes, what: str) -> int:
        try:
            return fw.decode_session(payload, what)
        except ProtocolError as exc:
            raise FwRefused(ERR_BAD_PAYLOAD, str(exc)) from exc

    def _check_session(self, session: int, what: str) -> None:
        if self.state == "idle" or session != self.session:
            raise FwRefused(ERR_BAD_PAYLOAD, f"{what}: no transfer with session {session} "
                                             f"(the current one is {self.session}, {self.state})")

    def _check_signature(self, header: ImageHeader, header_bytes: bytes, signature: bytes) -> None:
        if self._trusted is None:
            try:
                self._trusted = trusted_keys([str(p) for p in self._key_files])
            except ConfigError as exc:  # a profile naming an unreadable key trusts nothing
                _LOG.warning("simulated unit: %s", exc)
                self._trusted = {}
        try:
            verify_image(FirmwareImage(header, header_bytes, signature, b""), self._trusted)
        except ImageError as exc:
            self._refuse(f"signature: {exc}")

    def _drop(self, result: str, detail: str) -> None:
        """Forget the transfer (the slot is free again)."""
        self.state, self.session, self._begin, self._header = "idle", 0, None, None
        self.slot, self.total, self.pending_version = bytearray(), 0, ""
        self.last_result, self.last_detail = result, detail
