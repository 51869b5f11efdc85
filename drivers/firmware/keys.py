"""Ed25519 signing keys for firmware images, read from PEM files the user names.

No key is built in. The simulated unit trusts one test key pair shipped with the simulator
(``drivers/sim/firmware/``, marked TEST ONLY): an image signed with it is a test image.
"""

from __future__ import annotations

from pathlib import Path

from drivers.errors import ConfigError
from drivers.i18n import N_
from drivers.yamlsafe import read_bytes

#: A key file is small; anything bigger is not one.
MAX_KEY_FILE = 16 * 1024


def _read(path: Path, what: str) -> bytes:
    return read_bytes(path, max_bytes=MAX_KEY_FILE, what=what)  # bounded; a FIFO or a device is refused


def load_private_key(path: str | Path) -> bytes:
    """The raw 32-byte Ed25519 private key in a PEM file (PKCS#8, unencrypted).

    Raises:
        ConfigError: unreadable, not PEM, encrypted, or not an Ed25519 key.
    """
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, load_pem_private_key

    p = Path(path)
    try:
        key = load_pem_private_key(_read(p, "private key"), password=None)
    except (ValueError, TypeError):
        raise ConfigError(N_("not an unencrypted PEM private key (PKCS#8)"), path=str(p)) from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError(N_("not an Ed25519 key (firmware images are signed with Ed25519)"), path=str(p))
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def load_public_key(path: str | Path) -> bytes:
    """The raw 32-byte Ed25519 public key in a PEM file (SubjectPublicKeyInfo).

    Raises:
        ConfigError: unreadable, not PEM, or not an Ed25519 key.
    """
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat, load_pem_public_key

    p = Path(path)
    try:
        key = load_pem_public_key(_read(p, "public key"))
    except (ValueError, TypeError):
        raise ConfigError(N_("not a PEM public key (a private key, or another format?)"), path=str(p)) from None
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(N_("not an Ed25519 key (firmware images are signed with Ed25519)"), path=str(p))
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def trusted_keys(paths: list[str | Path]) -> dict[bytes, bytes]:
    """Key id -> raw public key for each public key file (what :func:`~drivers.firmware.image.verify_image` takes)."""
    from drivers.firmware.image import key_id_of

    keys = [load_public_key(p) for p in paths]
    return {key_id_of(k): k for k in keys}
