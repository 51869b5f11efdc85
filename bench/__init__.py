"""bench: a self-test bench for point-of-sale payment terminals.

Importing this package is cheap on purpose: the CLI must start fast, so heavy
dependencies (SQLAlchemy, pyscard, Pillow) are imported by the modules
that need them, when they need them.
"""

__version__ = "0.1.0"
