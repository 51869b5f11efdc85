"""Each instrument family's commands: the small part of SCPI where models differ.

A profile is picked from the instrument's ``*IDN?`` (manufacturer and model), or named in the URL
(``?profile=rigol-dp800``); an instrument no profile claims gets its kind's generic SCPI-99 one.
Command templates are ``str.format`` strings: ``{ch}`` the channel, ``{v}`` a number, ``{state}``
``ON``/``OFF``. Numbers are sent in fixed point (``5.0000``), which every instrument reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from drivers.errors import ConfigError, EquipmentError
from drivers.i18n import N_
from drivers.instruments.interfaces import InstrumentIdentity


@dataclass(frozen=True)
class Family:
    """Which instruments a profile is for: a manufacturer word and a model pattern (both case-blind)."""

    name: str
    maker: str  # a word of the *IDN? manufacturer ("keysight"); "" for the generic profile
    model: str  # a regular expression the *IDN? model starts with

    def claims(self, ident: InstrumentIdentity) -> bool:
        """True when ``ident`` is one of this family's instruments."""
        maker = ident.manufacturer.lower()
        return bool(self.maker) and self.maker in maker and re.match(self.model, ident.model, re.I) is not None


@dataclass(frozen=True)
class SupplyProfile:
    """A DC supply family's commands."""

    family: Family
    select: str | None  # selects the channel before the others (None: every command names it)
    set_voltage: str
    set_current: str
    output: str
    measure_voltage: str
    measure_current: str


@dataclass(frozen=True)
class DmmProfile:
    """A multimeter family's commands: an optional function select (checked), then the measuring query."""

    family: Family
    select_voltage: str | None
    read_voltage: str
    select_current: str | None
    read_current: str


@dataclass(frozen=True)
class ScopeProfile:
    """An oscilloscope family's commands; ``triggered`` answers ``triggered_answer`` once it captured."""

    family: Family
    arm: tuple[str, ...]  # configuration commands, then the single-shot one
    level: str
    triggered: str
    triggered_answer: str
    read_setup: tuple[str, ...]  # source, mode, ASCII format
    x_increment: str
    x_origin: str
    data: str


SUPPLIES = (
    SupplyProfile(Family("keysight-e36", "keysight", r"E36"), "INST:NSEL {ch}", "VOLT {v:.4f}", "CURR {v:.4f}",
                  "OUTP {state}", "MEAS:VOLT?", "MEAS:CURR?"),
    SupplyProfile(Family("rigol-dp800", "rigol", r"DP8"), None, ":SOUR{ch}:VOLT {v:.4f}", ":SOUR{ch}:CURR {v:.4f}",
                  ":OUTP CH{ch},{state}", ":MEAS:VOLT? CH{ch}", ":MEAS:CURR? CH{ch}"),
    SupplyProfile(Family("scpi-supply", "", ""), "INST:NSEL {ch}", "SOUR:VOLT {v:.4f}", "SOUR:CURR {v:.4f}",
                  "OUTP {state}", "MEAS:VOLT?", "MEAS:CURR?"),
)
DMMS = (
    DmmProfile(Family("keysight-344", "keysight", r"344"), None, "MEAS:VOLT:DC?", None, "MEAS:CURR:DC?"),
    DmmProfile(Family("rigol-dm3000", "rigol", r"DM30"), ":FUNC:VOLT:DC", ":MEAS:VOLT:DC?", ":FUNC:CURR:DC",
               ":MEAS:CURR:DC?"),
    DmmProfile(Family("scpi-dmm", "", ""), None, "MEAS:VOLT:DC?", None, "MEAS:CURR:DC?"),
)
SCOPES = (
    ScopeProfile(Family("rigol-ds1000z", "rigol", r"(DS1|MSO1)"), (":TRIG:MODE EDGE", ":TRIG:EDGE:SOUR CHAN{ch}",
                 ":SING"), ":TRIG:EDGE:LEV {v:.4f}", ":TRIG:STAT?", "STOP",
                 (":WAV:SOUR CHAN{ch}", ":WAV:MODE NORM", ":WAV:FORM ASC"), ":WAV:XINC?", ":WAV:XOR?", ":WAV:DATA?"),
    ScopeProfile(Family("keysight-infiniivision", "keysight", r"(DSO|MSO)X"), (":TRIG:MODE EDGE",
                 ":TRIG:EDGE:SOUR CHAN{ch}", ":SING"), ":TRIG:EDGE:LEV {v:.4f}", ":TER?", "+1",
                 (":WAV:SOUR CHAN{ch}", ":WAV:FORM ASC"), ":WAV:XINC?", ":WAV:XOR?", ":WAV:DATA?"),
)
_BY_KIND: dict[str, tuple[SupplyProfile, ...] | tuple[DmmProfile, ...] | tuple[ScopeProfile, ...]] = {
    "supply": SUPPLIES, "dmm": DMMS, "scope": SCOPES,
}


def pick(kind: str, ident: InstrumentIdentity, name: str | None = None) -> SupplyProfile | DmmProfile | ScopeProfile:
    """The profile for an instrument of ``kind`` ("supply", "dmm", "scope"): ``name``'s, else the one claiming it.

    Raises:
        ConfigError: ``name`` is no profile of that kind.
        EquipmentError: no profile claims it and the kind has no generic one (a scope's commands differ too much).
    """
    profiles = _BY_KIND[kind]
    if name is not None:
        for p in profiles:
            if p.family.name == name:
                return p
        known = ", ".join(p.family.name for p in profiles)
        raise ConfigError(N_("{kind}: no profile {name!r}; known: {known}", kind=kind, name=name, known=known))
    for p in profiles:
        if p.family.claims(ident):
            return p
    generic = [p for p in profiles if not p.family.maker]
    if generic:
        return generic[0]
    known = ", ".join(p.family.name for p in profiles)
    raise EquipmentError(N_("{kind}: no profile knows {manufacturer} {model}; name one with ?profile= ({known})", kind=kind, manufacturer=ident.manufacturer, model=ident.model, known=known), fault_code="BENCH-CONFIG")
