"""What every SCPI instrument driver shares: opening from a URL, identity, reset, closing."""

from __future__ import annotations

from typing import Any

from drivers.instruments.interfaces import Instrument, InstrumentIdentity
from drivers.instruments.profiles import pick
from drivers.instruments.scpi import ScpiSession, open_session
from drivers.instruments.visaurl import VisaUrl, parse_visa_url


class ScpiInstrument(Instrument):
    """An instrument behind an :class:`ScpiSession`, with the profile its ``*IDN?`` (or its URL) picked.

    Opening asks ``*IDN?`` (the instrument answers, and says which family it is) and clears its
    error queue; it changes no setting.
    """

    role = ""  # the station role, set by each driver

    def __init__(self, url: str, **_: Any) -> None:
        self.url = url
        self.where: VisaUrl = parse_visa_url(url, self.role)
        self.session: ScpiSession
        self.session, self.identity = open_session(self.where, f"{self.kind} at {self.where.resource}")
        try:
            self.profile: Any = pick(self.role, self.identity, self.where.profile)
        except BaseException:
            self.session.close()
            raise
        name = " ".join(x for x in (self.identity.manufacturer, self.identity.model) if x)
        if name:
            self.session.label = f"{self.kind} {name} at {self.where.resource}"

    def identify(self) -> InstrumentIdentity:
        """Ask ``*IDN?`` again."""
        return self.session.identify()

    def reset(self) -> None:
        """``*RST``, then ``*OPC?``."""
        self.session.reset()

    def close(self) -> None:
        """Close the instrument's session; harmless twice."""
        self.session.close()
