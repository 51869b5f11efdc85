"""A unit's side of the ISO 8583 link, built from pyiso8583 in the tests (the real unit side comes later)."""

from __future__ import annotations

import socket
from typing import Any

import iso8583
from iso8583.specs import default_ascii

PAN = "4761739001010010"
TRACK2 = "4761739001010010=28122011758928889"


def auth(stan: str, amount: int = 1000, *, pan: str = PAN, terminal: str = "TERM0001", **extra: str) -> dict[str, str]:
    """A well-formed 0100."""
    fields = {"t": "0100", "2": pan, "3": "000000", "4": f"{amount:012d}", "7": "1207012345", "11": stan,
              "12": "012345", "13": "1207", "22": "051", "41": terminal, "42": "MERCHANT0000001", "49": "978"}
    fields.update(extra)
    return fields


def reversal(stan: str, original: str, amount: int = 1000, *, terminal: str = "TERM0001", with_90: bool = True
             ) -> dict[str, str]:
    """A 0400 naming the authorisation with STAN ``original`` (field 90, or field 11 when ``with_90`` is false)."""
    fields = {"t": "0400", "3": "000000", "4": f"{amount:012d}", "7": "1207012400", "11": stan if with_90 else original,
              "41": terminal, "49": "978"}
    if with_90:
        fields["90"] = "0100" + original + "1207012345" + "0" * 22
    return fields


def echo(stan: str) -> dict[str, str]:
    """A 0800 echo test."""
    return {"t": "0800", "7": "1207012345", "11": stan, "70": "301"}


class Client:
    """One TCP connection to the host, length-framed."""

    def __init__(self, address: tuple[str, int], timeout: float = 5.0) -> None:
        self.sock = socket.create_connection(address, timeout=timeout)

    def send_raw(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send(self, fields: dict[str, str]) -> None:
        raw, _ = iso8583.encode(dict(fields), default_ascii)
        self.sock.sendall(len(raw).to_bytes(2, "big") + bytes(raw))

    def read_frame(self) -> bytes:
        """One frame's body; b"" when the host closed the connection."""
        header = self._exactly(2)
        if len(header) < 2:
            return b""
        return self._exactly(int.from_bytes(header, "big"))

    def recv(self) -> dict[str, Any]:
        body = self.read_frame()
        assert body, "the host closed the connection"
        fields, _ = iso8583.decode(body, default_ascii)
        return fields

    def request(self, fields: dict[str, str]) -> dict[str, Any]:
        self.send(fields)
        return self.recv()

    def closed(self) -> bool:
        """True when the host closed the connection (reads EOF)."""
        return self.sock.recv(1) == b""

    def _exactly(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                break
            data += chunk
        return data

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
