"""Flashing a signed firmware image over the unit link: the bench's side of docs/protocol.md §5b.

:func:`update` is :meth:`drivers.unit.UnitClient.firmware_update`. It refuses an image that does
not fit the unit before a byte of it is sent (:func:`check_image`), then: FW_BEGIN with the header
and signature; FW_CHUNKs of the largest size the agreed payload allows, each at the offset the
unit asked for last (stop and wait: the link retransmits a chunk whose answer was lost, and the
unit does not write a chunk twice); FW_COMMIT; the restart (a BOOT event, reason ``update`` or
``rollback``); HELLO and FW_STATUS. When the unit goes away mid-transfer (a power cut, a link that
stays down past the link's retries) it waits for the unit like a reboot (bounded by ``wait``),
shakes hands again and sends FW_BEGIN again: the unit answers the offset it had written, and the
transfer goes on from there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from drivers import fwproto as fw
from drivers import unitproto as up
from drivers.errors import DeviceError, LinkTimeout, ProtocolError
from drivers.firmware.image import FirmwareImage, ImageError, parse_image, verify_image
from drivers.firmware.version import is_older
from drivers.i18n import N_
from drivers.interfaces import Identity, UnitEvent
from drivers.link import Link, LinkStats, UnitErrorAnswer

_LOG = logging.getLogger(__name__)

#: The unit's reason word in ERROR 0x04 (docs/protocol.md §5b) -> the fault code.
REFUSAL_FAULTS = {
    "model": "FW-WRONG-MODEL",
    "hardware": "FW-WRONG-MODEL",
    "signature": "FW-UNTRUSTED-IMAGE",  # the unit's check worked: the image is at fault, not its firmware
    "downgrade": "FW-DOWNGRADE",
    "hash": "FW-UPDATE-FAILED",
}
#: Losses of the unit in a row, with no byte written between them, after which the update is given up.
MAX_STALLS = 3
#: Answers in a row that do not move the offset after which the unit is taken to be broken.
MAX_SAME_OFFSET = 3


class UnitClient(Protocol):
    """What an update needs of :class:`drivers.unit.UnitClient` (which imports this module)."""

    url: str
    link: Link

    @property
    def identity(self) -> Identity | None: ...
    @property
    def stats(self) -> LinkStats: ...
    def identify(self) -> Identity: ...
    def handshake(self, **options: Any) -> Identity: ...
    def firmware_status(self) -> fw.FwStatus: ...
    def await_boot(self, deadline: float, wait: float, after: str) -> tuple[Identity, UnitEvent | None]: ...
    def _check_reboot(self, during: str) -> None: ...
    def _forget_boots(self) -> None: ...


class _Restarted(Exception):
    """The unit restarted during the transfer (its session is gone; what it wrote is not)."""


class _NotBack(Exception):
    """The unit did not come back after FW_COMMIT: not a transfer to resume (that would flash it again)."""

    def __init__(self, timeout: LinkTimeout) -> None:
        super().__init__(str(timeout))
        self.timeout = timeout


def check_image(image: FirmwareImage, identity: Identity, *, allow_downgrade: bool = False,
                trusted: Mapping[bytes, bytes] | None = None) -> FirmwareImage:
    """Refuse an image the unit must not get, before a byte is sent; return it as read from its bytes.

    The image is read again from its bytes (one built by hand is checked like a file), its signature
    checked against ``trusted`` when given, then its model and hardware revisions against the unit's
    identity and its version against the running one.

    Raises:
        ImageError: FW-IMAGE-CORRUPT (truncated, altered payload), FW-UNTRUSTED-IMAGE, FW-WRONG-MODEL,
            FW-DOWNGRADE (older than running and ``allow_downgrade`` not given).
    """
    checked = parse_image(image.to_bytes())
    if trusted is not None:
        verify_image(checked, dict(trusted))
    h = checked.header
    if not h.fits(identity.model, identity.hw_revision):
        raise ImageError(N_("the image is for {model} hw {items}; this unit is a {model2} hw {hw_revision}", model=h.model, items=', '.join(h.hw_revisions), model2=identity.model, hw_revision=identity.hw_revision), fault_code="FW-WRONG-MODEL")
    if is_older(h.version, identity.firmware) and not allow_downgrade:
        raise ImageError(N_("the image's version {version} is older than the unit's {firmware} (allow the downgrade to flash it anyway)", version=h.version, firmware=identity.firmware), fault_code="FW-DOWNGRADE")
    return checked


def update(client: UnitClient, image: FirmwareImage, *, allow_downgrade: bool = False,
           trusted: Mapping[bytes, bytes] | None = None, progress: Callable[[int, int], None] | None = None,
           wait: float = 30.0) -> fw.FwUpdateResult:
    """Flash ``image`` into the unit, commit it and wait for the unit to restart; say what happened.

    Args:
        client: the unit.
        image: a parsed image (:func:`drivers.firmware.image.parse_image`).
        allow_downgrade: flash an image older than the running version.
        trusted: key id -> raw public key; when given, the bench checks the signature itself too.
        progress: called with (payload bytes the unit has, payload length) as the transfer goes.
        wait: seconds to wait for the unit each time it goes away (a power cut, the restart).

    Raises:
        ImageError: refused before a byte was sent (:func:`check_image`).
        DeviceError: the unit refused the image (its reason's fault: FW-WRONG-MODEL, FW-UNTRUSTED-IMAGE,
            FW-DOWNGRADE, FW-UPDATE-FAILED), the transfer made no progress (FW-UPDATE-FAILED),
            LINK-UNSUPPORTED (no ``fwupdate``).
        LinkTimeout: the unit did not come back within ``wait``.
    """
    identity = client.identity or client.identify()
    image = check_image(image, identity, allow_downgrade=allow_downgrade, trusted=trusted)
    run = _Transfer(client, image, allow_downgrade, progress, wait)
    return run.go(identity.firmware)


class _Transfer:
    """One update, with what it counts."""

    def __init__(self, client: UnitClient, image: FirmwareImage, allow_downgrade: bool,
                 progress: Callable[[int, int], None] | None, wait: float) -> None:
        self.client = client
        self.image = image
        self.begin = fw.FwBegin(image.header_bytes + image.signature, allow_downgrade).encode()
        self.total = len(image.payload)
        self.progress = progress
        self.wait = wait
        self.sent = 0
        self.resumes = 0
        self.acked = 0  # the furthest offset the unit said it had

    def go(self, before: str) -> fw.FwUpdateResult:
        client = self.client
        started = time.monotonic()
        retransmissions = client.stats.retransmissions
        stalls, mark = 0, 0
        while True:
            try:
                session, offset = self._begin()
                self._send(session, offset)
                identity, event = self._commit(session)
                status = client.firmware_status()
                if event is not None and event.data.get("reason") not in ("update", "rollback") and status.pending:
                    raise _Restarted()  # it restarted for another reason before switching: go on with the transfer
            except _NotBack as exc:
                raise exc.timeout from None
            except (LinkTimeout, _Restarted) as exc:
                stalls, mark = (0, self.acked) if self.acked > mark else (stalls + 1, mark)
                if stalls >= MAX_STALLS:
                    raise DeviceError(
                        N_("the firmware transfer makes no progress: the unit keeps going away"),
                        fault_code="FW-UPDATE-FAILED",
                        detail=f"unit on {client.url}: lost {stalls} times in a row at offset {self.acked}",
                    ) from None
                self.resumes += 1
                _LOG.info("unit on %s went away during the update (%s): resuming", client.url, exc or "restart")
                self._come_back(isinstance(exc, LinkTimeout))
                continue
            break
        reason = "" if event is None else str(event.data.get("reason", ""))
        rolled_back = reason == "rollback" or (not reason and status.last_result == "rolled-back")
        return fw.FwUpdateResult(
            version_before=before, version_after=identity.firmware, image_version=self.image.header.version,
            rolled_back=rolled_back, boot_reason=reason, total=self.total, bytes_sent=self.sent,
            resumes=self.resumes, retransmissions=client.stats.retransmissions - retransmissions,
            seconds=time.monotonic() - started, last_result=status.last_result, last_detail=status.last_detail,
        )

    # ------------------------------------------------------------------ steps

    def _request(self, command: int, payload: bytes, *, restart_ends: bool = True) -> bytes:
        """One request; _Restarted when the unit restarted meanwhile (its session is gone)."""
        name = up.COMMAND_NAMES[command]
        try:
            answer = self.client.link.request(command, payload, name=name).payload
        except UnitErrorAnswer as exc:
            if exc.code != fw.ERR_REFUSED:
                raise
            raise DeviceError(N_("the unit refused the firmware image: {text}", text=exc.text),
                              fault_code=REFUSAL_FAULTS.get(exc.text.split(":", 1)[0].strip(), "FW-UPDATE-FAILED"),
                              detail=f"{name} on {self.client.url}: ERROR 0x04 {exc.text}") from None
        except ProtocolError:
            if self._restart_seen():  # a chunk of the session the restart ended: ERROR 0x02
                raise _Restarted() from None
            raise
        if restart_ends and self._restart_seen():
            raise _Restarted()
        return answer

    def _restart_seen(self) -> bool:
        try:
            self.client._check_reboot("a firmware update")
        except DeviceError:
            return True
        return False

    def _begin(self) -> tuple[int, int]:
        answer = fw.FwBeginAnswer.decode(self._request(up.CMD_FW_BEGIN, self.begin))
        if answer.total != self.total or answer.offset > self.total:
            raise ProtocolError(N_("FW_BEGIN: the unit wants offset {offset} of {total} bytes; the image's payload is {total2}", offset=answer.offset, total=answer.total, total2=self.total))
        _LOG.debug("FW_BEGIN: session %d from offset %d", answer.session, answer.offset)
        self.acked = max(self.acked, answer.offset)
        if self.progress is not None:
            self.progress(answer.offset, self.total)
        return answer.session, answer.offset

    def _send(self, session: int, offset: int) -> None:
        payload, same = self.image.payload, 0
        while offset < self.total:
            size = self.client.link.max_payload - fw.CHUNK_OVERHEAD
            data = payload[offset:offset + size]
            self.sent += len(data)  # on the line now (the link's own retransmissions are counted apart)
            wanted = fw.decode_offset(self._request(up.CMD_FW_CHUNK, fw.FwChunk(session, offset, data).encode()))
            if wanted > self.total:
                raise ProtocolError(N_("FW_CHUNK: the unit wants offset {wanted} of a {total}-byte payload", wanted=wanted, total=self.total))
            same = same + 1 if wanted == offset else 0
            if same >= MAX_SAME_OFFSET:
                raise DeviceError(N_("the unit does not take the firmware's data"), fault_code="FW-UPDATE-FAILED",
                                  detail=f"FW_CHUNK on {self.client.url}: offset {offset} answered {same} times")
            offset = wanted
            self.acked = max(self.acked, offset)
            if self.progress is not None:
                self.progress(offset, self.total)

    def _commit(self, session: int) -> tuple[Identity, UnitEvent | None]:
        client = self.client
        client._forget_boots()
        deadline = time.monotonic() + self.wait
        try:
            # The restart it starts is awaited below (a unit that boots at once sends BOOT right after).
            self._request(up.CMD_FW_COMMIT, fw.encode_session(session), restart_ends=False)
        except LinkTimeout as exc:
            # The answer may have been lost while the unit was already restarting: wait anyway.
            _LOG.debug("FW_COMMIT answer lost (%s); waiting for the unit to come back", exc)
        try:
            return client.await_boot(deadline, self.wait, "FW_COMMIT")
        except LinkTimeout as exc:
            # The unit took the commit and is restarting (slower than ``wait``): beginning again would
            # send the whole image once more and commit it a second time.
            raise _NotBack(exc) from None

    def _come_back(self, silent: bool) -> None:
        """The unit went away: wait for it (a BOOT event or a HELLO), then shake hands again."""
        if silent:
            self.client.await_boot(time.monotonic() + self.wait, self.wait, "losing the unit mid-update")
        else:
            self.client.handshake()
