"""The bench acquirer host: ISO 8583 over TCP for the unit's online transactions (docs/iso8583.md)."""

from drivers.acquirer.behaviours import Behaviour, Behaviours, load_behaviours, parse_behaviours_text
from drivers.acquirer.checks import REQUIRED, Finding
from drivers.acquirer.host import AcquirerHost
from drivers.acquirer.records import Exchange

__all__ = ["REQUIRED", "AcquirerHost", "Behaviour", "Behaviours", "Exchange", "Finding", "load_behaviours",
           "parse_behaviours_text"]
