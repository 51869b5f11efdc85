"""The simulated unit's firmware updates (docs/protocol.md §5b), bytes in and out, time explicit."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from drivers import fwproto as fw
from drivers import unitproto as up
from drivers.codecs.linkframe import T_ERROR, T_EVENT, Frame, FrameDecoder, encode_frame
from drivers.errors import ConfigError
from drivers.firmware.image import FirmwareImage
from drivers.sim.unitprofile import load_profile
from drivers.sim.unitsim import UnitSim
from drivers.unit import parse_identity, parse_log
from tests.drivers.fwimages import make_image

CHUNK = 504  # the good profile's 512-byte payload less FW_CHUNK's 8


class Host:
    """Just enough of a host to drive the simulated unit: one request at a time, its answer frames."""

    def __init__(self, overrides: dict[str, Any] | None = None, faults: dict[str, Any] | None = None) -> None:
        over = {"boot_time": 0.5, **(overrides or {})}
        if faults:
            over["faults"] = faults
        self.sim = UnitSim(load_profile("good", over), now=0.0)
        self.decoder = FrameDecoder()
        self.seq = 0
        self.now = 0.0

    def send(self, cmd: int, payload: bytes = b"", *, again: bool = False) -> list[Frame]:
        """Send a request (``again``: the same SEQ, a retransmission); return every frame that came back."""
        self.now += 0.01
        if not again:
            self.seq = (self.seq + 1) & 0xFF
        return self.decoder.feed(self.sim.feed(encode_frame(self.seq, cmd, payload), self.now))

    def call(self, cmd: int, payload: bytes = b"") -> bytes:
        """A request whose answer must be the response; return its payload."""
        frames = [f for f in self.send(cmd, payload) if f.type != T_EVENT]
        assert [f.type for f in frames] == [cmd | 0x80], frames
        return frames[0].payload

    def error(self, cmd: int, payload: bytes = b"") -> tuple[int, str]:
        """A request the unit must refuse; return the ERROR code and text."""
        frames = self.send(cmd, payload)
        assert [f.type for f in frames] == [T_ERROR], frames
        r = up.Reader(frames[0].payload, "ERROR")
        assert r.u8() == cmd
        return r.u8(), r.str()

    def wait(self, seconds: float) -> list[Frame]:
        self.now += seconds
        return self.decoder.feed(self.sim.poll(self.now))

    def begin(self, image: FirmwareImage, downgrade: bool = False) -> fw.FwBeginAnswer:
        return fw.FwBeginAnswer.decode(self.call(fw.CMD_FW_BEGIN, _begin(image, downgrade)))

    def chunk(self, session: int, offset: int, data: bytes) -> int:
        return fw.decode_offset(self.call(fw.CMD_FW_CHUNK, fw.FwChunk(session, offset, data).encode()))

    def send_all(self, session: int, image: FirmwareImage, offset: int = 0, stop: int | None = None) -> int:
        end = len(image.payload) if stop is None else stop
        while offset < end:
            offset = self.chunk(session, offset, image.payload[offset:offset + CHUNK])
        return offset

    def status(self) -> fw.FwStatus:
        return fw.FwStatus.decode(self.call(fw.CMD_FW_STATUS))

    def boot_event(self) -> tuple[str, str]:
        """Wait out the restart; return the BOOT event's reason and firmware."""
        events = [f for f in self.wait(1.0) if f.type == T_EVENT]
        assert len(events) == 1 and events[0].payload[0] == up.EV_BOOT
        r = up.Reader(events[0].payload[1:], "boot")
        reason, _count, firmware = r.u8(), r.u32(), r.str()
        return up.BOOT_REASONS[reason], firmware


def _begin(image: FirmwareImage, downgrade: bool = False) -> bytes:
    return fw.FwBegin(image.header_bytes + image.signature, downgrade).encode()


def test_an_update_is_written_to_the_other_slot_and_runs_after_the_restart() -> None:
    host, image = Host(), make_image(5000)
    answer = host.begin(image)
    assert (answer.offset, answer.total) == (0, 5000) and answer.session
    assert host.send_all(answer.session, image) == 5000
    st = host.status()
    assert (st.state, st.received, st.total, st.pending_version, st.running_version) == ("ready", 5000, 5000,
                                                                                         "2.5.0", "2.4.1")
    assert host.call(fw.CMD_FW_COMMIT, fw.encode_session(answer.session)) == b""
    assert host.send(up.CMD_PING, b"x") == []  # silent while it restarts
    assert host.boot_event() == ("update", "2.5.0")
    assert parse_identity(host.call(up.CMD_HELLO, b"\x01\x02\x00")).firmware == "2.5.0"
    st = host.status()
    assert (st.state, st.running_version, st.active_slot, st.last_result) == ("idle", "2.5.0", "B", "updated")
    log = parse_log(host.sim.device.log_image)
    assert (log[-1].code, log[-1].text) == (0x0A01, "firmware 2.5.0 installed (was 2.4.1)")


def test_a_new_image_that_does_not_boot_rolls_back() -> None:
    host, image = Host({"firmware_update": {"boot_fails": True}}), make_image(600)
    answer = host.begin(image)
    host.send_all(answer.session, image)
    host.call(fw.CMD_FW_COMMIT, fw.encode_session(answer.session))
    assert host.boot_event() == ("rollback", "2.4.1")
    st = host.status()
    assert (st.running_version, st.active_slot, st.last_result) == ("2.4.1", "A", "rolled-back")
    assert st.last_detail == "2.5.0 did not boot (watchdog)"
    assert parse_log(host.sim.device.log_image)[-1].code == 0x0A02


def _other_key() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


@pytest.mark.parametrize(("image", "word"), [
    (make_image(100, model="PT-400"), "model"),
    (make_image(100, hw=("A", "B")), "hardware"),
    (make_image(100, key=_other_key()), "signature"),
    (make_image(100, version="2.4.0"), "downgrade"),
])
def test_begin_refuses_an_image_that_does_not_fit_naming_why(image: FirmwareImage, word: str) -> None:
    host = Host()
    code, text = host.error(fw.CMD_FW_BEGIN, _begin(image))
    assert code == fw.ERR_REFUSED and text.startswith(f"{word}: ")
    assert host.status().state == "idle"


def test_a_downgrade_is_taken_when_the_host_allows_it_and_an_altered_header_is_not() -> None:
    host = Host()
    assert host.begin(make_image(100, version="2.3.9"), downgrade=True).total == 100
    image = make_image(100, version="2.5.0")
    forged = image.header_bytes.replace(b"2.5.0", b"2.9.0") + image.signature
    code, text = host.error(fw.CMD_FW_BEGIN, fw.FwBegin(forged).encode())
    assert code == fw.ERR_REFUSED and text.startswith("signature: ")
    code, _ = host.error(fw.CMD_FW_BEGIN, fw.FwBegin(b"PBFW\x01").encode())
    assert code == 0x02  # a header it cannot read


def test_chunks_go_in_order_and_a_transfer_resumes_where_it_stopped() -> None:
    host, image = Host(), make_image(3000)
    first = host.begin(image)
    assert host.chunk(first.session, 0, image.payload[:1000]) == 1000
    assert host.chunk(first.session, 0, image.payload[:1000]) == 1000  # not where it is: not written again
    assert host.chunk(first.session, 1500, image.payload[1500:2000]) == 1000  # a gap: says where to go on
    code, _ = host.error(fw.CMD_FW_CHUNK, fw.FwChunk(first.session, 2900, b"x" * 101).encode())
    assert code == 0x02  # past the payload's end
    again = host.begin(image)  # the same image: go on from 1000, in a new session
    assert (again.offset, again.total) == (1000, 3000) and again.session != first.session
    code, _ = host.error(fw.CMD_FW_CHUNK, fw.FwChunk(first.session, 1000, b"x").encode())
    assert code == 0x02  # the old session is over
    assert host.begin(make_image(3000, seed=2)).offset == 0  # another image: the partial one is dropped


def test_a_payload_that_does_not_match_its_hash_is_refused_at_commit() -> None:
    host, image = Host(), make_image(1000)
    answer = host.begin(image)
    host.chunk(answer.session, 0, bytes(1000))
    code, text = host.error(fw.CMD_FW_COMMIT, fw.encode_session(answer.session))
    assert code == fw.ERR_REFUSED and text.startswith("hash: ")
    st = host.status()
    assert (st.state, st.last_result, st.running_version) == ("idle", "rejected", "2.4.1")


def test_commit_before_the_whole_payload_and_abort() -> None:
    host, image = Host(), make_image(1000)
    answer = host.begin(image)
    host.chunk(answer.session, 0, image.payload[:10])
    assert host.error(fw.CMD_FW_COMMIT, fw.encode_session(answer.session))[0] == 0x02
    assert host.call(fw.CMD_FW_ABORT, fw.encode_session(answer.session)) == b""
    st = host.status()
    assert (st.state, st.last_result, st.received) == ("idle", "aborted", 0)


def test_a_power_cut_mid_flash_keeps_what_was_written_and_the_transfer_resumes() -> None:
    host, image = Host(faults={"fw_power_cut_at": 2000}), make_image(5000)
    answer = host.begin(image)
    offset = host.send_all(answer.session, image, stop=1512)
    assert offset == 1512
    frames = host.send(fw.CMD_FW_CHUNK, fw.FwChunk(answer.session, offset, image.payload[offset:offset + CHUNK]).encode())
    assert frames == []  # written, then the power failed before the answer
    assert host.boot_event() == ("power_on", "2.4.1")
    st = host.status()
    assert (st.state, st.session, st.received, st.pending_version) == ("receiving", 0, 2016, "2.5.0")
    again = host.begin(image)
    assert again.offset == 2016
    host.send_all(again.session, image, again.offset)  # the cut happens once
    host.call(fw.CMD_FW_COMMIT, fw.encode_session(again.session))
    assert host.boot_event() == ("update", "2.5.0")


def test_every_nth_chunk_request_is_lost_and_answered_when_it_comes_again() -> None:
    host, image = Host(faults={"fw_link_drop_every": 3}), make_image(5000)
    answer = host.begin(image)
    offset, lost, requests = 0, [], 0
    while offset < 6 * CHUNK:
        request = fw.FwChunk(answer.session, offset, image.payload[offset:offset + CHUNK]).encode()
        frames = host.send(fw.CMD_FW_CHUNK, request)
        requests += 1
        while not frames:  # lost on the way: the host's retransmission (same SEQ)
            lost.append(requests)
            frames = host.send(fw.CMD_FW_CHUNK, request, again=True)
            requests += 1
        offset = fw.decode_offset(frames[0].payload)
    assert lost == [3, 6] and requests == 8


def test_a_restart_ends_the_session_not_the_transfer() -> None:
    host, image = Host(), make_image(3000)
    answer = host.begin(image)
    host.chunk(answer.session, 0, image.payload[:700])
    host.call(up.CMD_REBOOT)
    assert host.boot_event() == ("commanded", "2.4.1")
    st = host.status()
    assert (st.state, st.session, st.received) == ("receiving", 0, 700)
    assert host.begin(image).offset == 700


def test_an_update_left_pending_at_intake_shows_and_can_be_aborted() -> None:
    host = Host({"firmware_update": {"pending": {"version": "2.6.0", "received": 4096, "total": 65536}}})
    st = host.status()
    assert st.pending and (st.state, st.session, st.pending_version, st.received, st.total) == (
        "receiving", 0, "2.6.0", 4096, 65536)
    assert host.call(fw.CMD_FW_ABORT, fw.encode_session(0)) == b""
    assert (host.status().state, host.status().last_result) == ("idle", "aborted")


def test_a_unit_without_the_capability_answers_unsupported() -> None:
    host = Host({"capabilities": ["selftest"]})
    assert host.error(fw.CMD_FW_STATUS)[0] == 0x01


@pytest.mark.parametrize(("section", "match"), [
    ({"firmware_update": {"boot_fails": "yes"}}, "firmware_update.boot_fails"),
    ({"firmware_update": {"pending": {"version": "2.6.0", "received": 9, "total": 8}}}, "pending.received"),
    ({"firmware_update": {"pending": {"version": "2.6.0"}}}, "pending.received"),
    ({"firmware_update": {"colour": 1}}, "firmware_update.colour"),
    ({"faults": {"fw_power_cut_at": 0}}, "faults.fw_power_cut_at"),
    ({"faults": {"fw_link_drop_every": "often"}}, "faults.fw_link_drop_every"),
])
def test_bad_firmware_profile_fields_name_the_field(section: dict[str, Any], match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        load_profile("good", section)
