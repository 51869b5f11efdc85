"""The unit's firmware-update command set on the link: numbers and payload codecs (docs/protocol.md §5b).

Shared by the client and the simulated unit so both speak the same bytes. An update: FW_BEGIN
with the image's header and signature (the unit checks they fit it and are signed by a key it
trusts, and says from which offset it wants the payload: 0, or where an interrupted transfer of
the same image stopped); FW_CHUNKs in order, each answered with the next offset the unit wants;
FW_COMMIT (the unit checks the whole payload's hash and the signature, switches its boot slot and
restarts, §7, with a BOOT event of reason ``update``, or ``rollback`` when the new image did not
boot and it went back to the old one); FW_STATUS at any time; FW_ABORT drops a transfer.
:class:`FwUpdateResult` is what the client's ``firmware_update`` says about one update.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.unitproto import CMD_FW_ABORT as CMD_FW_ABORT
from drivers.unitproto import CMD_FW_BEGIN as CMD_FW_BEGIN
from drivers.unitproto import CMD_FW_CHUNK as CMD_FW_CHUNK
from drivers.unitproto import CMD_FW_COMMIT as CMD_FW_COMMIT
from drivers.unitproto import CMD_FW_STATUS as CMD_FW_STATUS
from drivers.unitproto import Reader, Writer

FW_CAPABILITY = "fwupdate"

#: FW_BEGIN flag: take an image older than the running one.
FLAG_ALLOW_DOWNGRADE = 0x01

#: Transfer states in FW_STATUS (the index is the code on the wire).
STATES = ("idle", "receiving", "ready")
#: How the last update ended, in FW_STATUS (the index is the code on the wire).
RESULTS = ("none", "updated", "rolled-back", "rejected", "aborted")

#: ERROR code for an image the unit refuses (wrong model or hardware, signature, downgrade, hash).
ERR_REFUSED = 0x04

#: Bytes of an FW_CHUNK request before its data (session, offset).
CHUNK_OVERHEAD = 8


@dataclass(frozen=True)
class FwBegin:
    """FW_BEGIN: the image's header and signature, as the image file holds them."""

    header_and_signature: bytes
    allow_downgrade: bool = False

    def encode(self) -> bytes:
        """``u8 flags, u16 length, bytes``."""
        if not 1 <= len(self.header_and_signature) <= 0xFFFF:
            raise ValueError("FW_BEGIN: the header and signature are 1 to 65535 bytes")
        flags = FLAG_ALLOW_DOWNGRADE if self.allow_downgrade else 0
        return Writer().u8(flags).u16(len(self.header_and_signature)).raw(self.header_and_signature).bytes()

    @staticmethod
    def decode(payload: bytes) -> FwBegin:
        """Read an FW_BEGIN request (:class:`~drivers.errors.ProtocolError` when malformed)."""
        r = Reader(payload, "FW_BEGIN")
        flags = r.u8()
        data = r.take(r.u16())
        r.end()
        return FwBegin(data, bool(flags & FLAG_ALLOW_DOWNGRADE))


@dataclass(frozen=True)
class FwBeginAnswer:
    """The unit's answer to FW_BEGIN: the transfer's session, where to start, the payload's length."""

    session: int
    offset: int
    total: int

    def encode(self) -> bytes:
        """``u32 session, u32 offset, u32 total``."""
        return Writer().u32(self.session).u32(self.offset).u32(self.total).bytes()

    @staticmethod
    def decode(payload: bytes) -> FwBeginAnswer:
        """Read an FW_BEGIN answer."""
        r = Reader(payload, "FW_BEGIN answer")
        out = FwBeginAnswer(r.u32(), r.u32(), r.u32())
        r.end()
        return out


@dataclass(frozen=True)
class FwChunk:
    """FW_CHUNK: payload bytes at an offset (the unit takes only the offset it asked for next)."""

    session: int
    offset: int
    data: bytes

    def encode(self) -> bytes:
        """``u32 session, u32 offset, bytes data`` (the rest of the payload)."""
        return Writer().u32(self.session).u32(self.offset).raw(self.data).bytes()

    @staticmethod
    def decode(payload: bytes) -> FwChunk:
        """Read an FW_CHUNK request."""
        r = Reader(payload, "FW_CHUNK")
        return FwChunk(r.u32(), r.u32(), r.rest())


def encode_offset(offset: int) -> bytes:
    """FW_CHUNK's answer: ``u32 next offset`` (the unit's, whatever the chunk asked)."""
    return Writer().u32(offset).bytes()


def decode_offset(payload: bytes) -> int:
    """Read FW_CHUNK's answer."""
    r = Reader(payload, "FW_CHUNK answer")
    offset = r.u32()
    r.end()
    return offset


def encode_session(session: int) -> bytes:
    """FW_COMMIT's and FW_ABORT's request: ``u32 session``."""
    return Writer().u32(session).bytes()


def decode_session(payload: bytes, what: str) -> int:
    """Read FW_COMMIT's or FW_ABORT's request."""
    r = Reader(payload, what)
    session = r.u32()
    r.end()
    return session


@dataclass(frozen=True)
class FwStatus:
    """FW_STATUS: the transfer in progress (or none), the running image, and how the last update ended."""

    state: str
    session: int
    received: int
    total: int
    pending_version: str
    running_version: str
    active_slot: str
    last_result: str
    last_detail: str

    @property
    def pending(self) -> bool:
        """True when an update was started and neither committed nor aborted."""
        return self.state != "idle"

    def encode(self) -> bytes:
        """``u8 state, u32 session, u32 received, u32 total, str pending version, str running version,
        u8 active slot (0 A, 1 B), u8 last result, str last detail``."""
        return (Writer().u8(STATES.index(self.state)).u32(self.session).u32(self.received).u32(self.total)
                .str(self.pending_version).str(self.running_version).u8("AB".index(self.active_slot))
                .u8(RESULTS.index(self.last_result)).str(self.last_detail).bytes())

    @staticmethod
    def decode(payload: bytes) -> FwStatus:
        """Read an FW_STATUS answer (unknown codes are a :class:`~drivers.errors.ProtocolError`)."""
        r = Reader(payload, "FW_STATUS answer")
        state = r.code(STATES, "state")
        session, received, total = r.u32(), r.u32(), r.u32()
        pending, running = r.str(), r.str()
        slot = r.code(("A", "B"), "active slot")
        result = r.code(RESULTS, "last result")
        detail = r.str()
        r.end()
        return FwStatus(state, session, received, total, pending, running, slot, result, detail)


@dataclass(frozen=True)
class FwUpdateResult:
    """How a firmware update over the link went (:meth:`Unit.firmware_update`).

    ``rolled_back`` is True when the new image did not boot and the unit went back to the one it
    ran (``version_after`` is then the old version); ``boot_reason`` is the BOOT event's reason
    (``update``, ``rollback``; empty when the event was lost and HELLO found the unit back).
    ``bytes_sent`` counts the payload bytes the bench sent (more than ``total`` when chunks were
    sent again), ``resumes`` the times it began again after losing the unit (power cut, link loss),
    ``seconds`` the whole update from the first FW_BEGIN to the identity after the restart.
    """

    version_before: str
    version_after: str
    image_version: str
    rolled_back: bool
    boot_reason: str
    total: int
    bytes_sent: int
    resumes: int
    retransmissions: int
    seconds: float
    last_result: str
    last_detail: str

    @property
    def updated(self) -> bool:
        """True when the unit runs the image's version now."""
        return not self.rolled_back and self.version_after == self.image_version
