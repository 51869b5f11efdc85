"""Firmware for the unit: the signed image format (``image``) and signing keys (``keys``); docs/firmware.md."""
