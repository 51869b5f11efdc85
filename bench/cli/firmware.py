"""``bench firmware inspect IMAGE`` and ``bench firmware sign``: signed firmware images (docs/firmware.md).

``inspect`` reads an image, checks its format and payload hash and, with ``--key``, its
signature; exit 0 when it is sound (and signed by a key given), 2 with one line saying what is
wrong otherwise. ``sign`` builds a test image from a payload and a private key file the user
names; the only keys in the repository are the simulator's, marked TEST ONLY.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from bench.cli import safe
from bench.cli.clicktr import group
from bench.errors import said
from bench.i18n.layout import display_width, pad
from drivers.i18n import N_, _

if TYPE_CHECKING:
    from drivers.firmware.image import FirmwareImage


@group()
def firmware() -> None:
    """Firmware images: inspect and verify one, or sign a test image."""


def _read_image(path: Path) -> FirmwareImage:
    from drivers.firmware.image import MAX_IMAGE, ImageError, parse_image
    from drivers.yamlsafe import read_bytes

    data = read_bytes(path, max_bytes=MAX_IMAGE, what="firmware image")
    try:
        return parse_image(data)
    except ImageError as exc:
        raise ImageError(N_("{path}: {error}", path=str(path), error=said(exc)),
                         fault_code=exc.fault_code or "FW-IMAGE-CORRUPT") from None


@firmware.command("inspect")
@click.argument("image_file", metavar="IMAGE", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--key", "keys", multiple=True, type=click.Path(dir_okay=False, path_type=Path),
              help=N_("A trusted public key (PEM); repeatable. Without one the signature is not checked."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the image's header and checks as JSON."))
def inspect_image(image_file: Path, keys: tuple[Path, ...], as_json: bool) -> None:
    """Print what IMAGE says it is and check it: format, payload hash, signature (with --key)."""
    from drivers.firmware.image import ImageError, verify_image
    from drivers.firmware.keys import trusted_keys

    image = _read_image(image_file)
    signed: str | None = None
    if keys:
        try:
            signed = verify_image(image, trusted_keys(list(keys))).hex()
        except ImageError as exc:
            raise ImageError(N_("{path}: {error}", path=str(image_file), error=said(exc)),
                             fault_code=exc.fault_code or "FW-UNTRUSTED-IMAGE") from None
    out = _describe(image, signed, bool(keys))
    if as_json:
        safe.echo_json(json.dumps(out, indent=2))
        return
    h = image.header
    safe.echo(_("{file}: firmware image, {size} bytes").format(file=safe.one_line(image_file), size=image.size))
    rows = [
        (_("model"), h.model),
        (_("version"), h.version),
        (_("hw revisions"), ", ".join(h.hw_revisions)),
        (_("payload"), _("{n} bytes, SHA-256 {sha} (matches)").format(n=h.payload_length, sha=h.payload_sha256.hex())),
        (_("signed by"), _("key {key}").format(key=h.key_id.hex())),
        (_("signature"), _("good (a trusted key)") if signed is not None
         else _("not checked: give --key PUBLIC.pem to verify it")),
    ]
    width = max(12, *(display_width(label) for label, _value in rows))
    for label, value in rows:
        safe.echo(f"  {pad(label, width)} {value}")


def _describe(image: FirmwareImage, signed: str | None, checked: bool) -> dict[str, Any]:
    h = image.header
    return {
        "model": h.model, "version": h.version, "hw_revisions": list(h.hw_revisions), "size": image.size,
        "payload_length": h.payload_length, "payload_sha256": h.payload_sha256.hex(), "key_id": h.key_id.hex(),
        "hash_ok": True, "signature": "good" if signed is not None else ("bad" if checked else "not checked"),
    }


@firmware.command("sign")
@click.argument("payload_file", metavar="PAYLOAD", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--key", "key_file", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help=N_("The Ed25519 private key (PEM, PKCS#8, unencrypted) to sign with."))
@click.option("--model", required=True, help=N_("The model the image is for (e.g. PT-300)."))
@click.option("--version", "version", required=True, help=N_("The firmware version (e.g. 2.5.0)."))
@click.option("--hw", "hw_revisions", required=True, multiple=True, help=N_("A hardware revision it fits; repeatable."))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help=N_("Where to write the image (written whole or not at all)."))
@click.option("--json", "as_json", is_flag=True, help=N_("Print the image's header as JSON."))
def sign(payload_file: Path, key_file: Path, model: str, version: str, hw_revisions: tuple[str, ...],
         output: Path, as_json: bool) -> None:
    """Build a signed image from PAYLOAD (for test images; keep real keys off the bench)."""
    from bench.errors import UsageError
    from bench.reports.files import write_atomic
    from drivers.firmware.image import MAX_PAYLOAD, build_image
    from drivers.firmware.keys import load_private_key
    from drivers.yamlsafe import read_bytes

    payload = read_bytes(payload_file, max_bytes=MAX_PAYLOAD, what="payload")
    image = build_image(payload, model=model, version=version, hw_revisions=hw_revisions,
                        private_key=load_private_key(key_file))
    try:
        write_atomic(output, image.to_bytes())
    except OSError as exc:
        raise UsageError(N_("cannot write {path}: {error}", path=str(output),
                            error=exc.strerror or type(exc).__name__)) from None
    if as_json:
        safe.echo_json(json.dumps({**_describe(image, image.header.key_id.hex(), True), "path": str(output)}, indent=2))
        return
    safe.echo(_("{file}: {model} {version} for hw {hw}, {size} bytes, signed by key {key}").format(
        file=safe.one_line(output), model=model, version=version, hw=", ".join(hw_revisions), size=image.size,
        key=image.header.key_id.hex()))
