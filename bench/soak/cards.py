"""The card names a soak profile may mix: the bench's card library.

TXN_START names "a card of the bench's card library" (drivers/txnproto.py), so a profile is
checked against that library on a real bench too: a misspelt card would otherwise show up as
an hour of card-read failures, not as one line before the soak starts. A bench with other
cards passes its own names (``parse_profile_text(..., cards=...)``).

The library is two lists the drivers own:

* chip and contactless cards: one YAML file each in ``drivers/sim/cards/`` (shipped as package
  data). They are read here as a folder listing, as data: nothing of ``drivers.sim`` is imported.
* magstripe cards: ``MSR_CARDS`` in ``drivers/sim/unitpanel.py``, Python data in a module that
  imports only the standard library. It is imported late, on the first call, and only here.
"""

from __future__ import annotations

import functools
import importlib.resources


@functools.cache
def library_cards() -> frozenset[str]:
    """Every card name of the bench's library: chip/contactless files and magstripe cards."""
    folder = importlib.resources.files("drivers").joinpath("sim", "cards")
    emv = {entry.name[: -len(".yaml")] for entry in folder.iterdir() if entry.name.endswith(".yaml")}
    from drivers.sim.unitpanel import MSR_CARDS  # the one copy of the magstripe names (see the docstring)

    return frozenset(emv | set(MSR_CARDS))
