"""Bench instruments through PyVISA (docs/instruments.md): a programmable DC supply, a multimeter, an oscilloscope.

``interfaces`` is what checks are written against; ``visaurl`` reads a ``visa://`` URL; ``scpi`` is one
instrument's SCPI session (errors checked, timeouts bounded); ``profiles`` holds each family's command
set; ``supply``, ``dmm`` and ``scope`` are the drivers the registry opens.
"""
