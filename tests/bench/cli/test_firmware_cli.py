"""``bench firmware sign`` and ``inspect`` as a technician runs them: real files, exit codes, one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.cli.main import main

KEYS = Path(__file__).resolve().parents[3] / "drivers" / "sim" / "firmware"
PRIVATE = str(KEYS / "TEST-ONLY-signing-key.pem")
PUBLIC = str(KEYS / "TEST-ONLY-signing-key.pub.pem")


def bench(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out, err = capsys.readouterr()
    return int(exc.value.code or 0), out, err


@pytest.fixture
def image(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    payload = tmp_path / "payload.bin"
    payload.write_bytes(b"\x7fELF" + bytes(5000))
    out = tmp_path / "fw-2.5.0.img"
    code, said, err = bench(capsys, "firmware", "sign", str(payload), "--key", PRIVATE, "--model", "PT-300",
                            "--version", "2.5.0", "--hw", "C", "--hw", "D", "-o", str(out))
    assert (code, err) == (0, "")
    assert "PT-300 2.5.0 for hw C, D" in said and "signed by key" in said
    return out


def test_inspect_shows_the_header_and_a_good_signature(image: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = bench(capsys, "firmware", "inspect", str(image), "--key", PUBLIC)
    assert code == 0
    assert "model        PT-300" in out and "hw revisions C, D" in out and "5004 bytes" in out
    assert "signature    good" in out
    code, out, _ = bench(capsys, "firmware", "inspect", str(image), "--json")
    doc = json.loads(out)
    assert code == 0 and doc["version"] == "2.5.0" and doc["signature"] == "not checked" and doc["hash_ok"]


def test_inspect_refuses_a_damaged_or_untrusted_image_in_one_line(image: Path, tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    data = image.read_bytes()
    cut = tmp_path / "cut.img"
    cut.write_bytes(data[:-10])
    code, out, err = bench(capsys, "firmware", "inspect", str(cut))
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "truncated" in err and str(cut) in err
    at = data.index(b"2.5.0")
    forged = tmp_path / "forged.img"
    forged.write_bytes(data[:at] + b"9.9.9" + data[at + 5:])
    code, out, err = bench(capsys, "firmware", "inspect", str(forged), "--key", PUBLIC)
    assert (code, out) == (2, "") and "signature is wrong" in err and err.count("\n") == 1
    code, _, err = bench(capsys, "firmware", "inspect", str(image), "--key", PRIVATE)
    assert code == 2 and "not a PEM public key" in err


def test_sign_refuses_bad_fields_and_keys(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    payload = tmp_path / "p.bin"
    payload.write_bytes(b"x")
    out = tmp_path / "o.img"
    code, _, err = bench(capsys, "firmware", "sign", str(payload), "--key", PRIVATE, "--model", "PT 300",
                         "--version", "1", "--hw", "C", "-o", str(out))
    assert code == 2 and "model 'PT 300'" in err and not out.exists()
    code, _, err = bench(capsys, "firmware", "sign", str(payload), "--key", PUBLIC, "--model", "PT-300",
                         "--version", "1", "--hw", "C", "-o", str(out))
    assert code == 2 and "private key" in err and not out.exists()
