"""Barcode bar patterns: EAN-13, UPC-A, EAN-8, CODE39 and CODE128 as modules.

A pattern is a string, one character per module, ``"1"`` a bar and ``"0"`` a space; the
renderer (:mod:`drivers.escpos.render`) draws it at the printer's module width.
"""

from __future__ import annotations

_EAN_L = (
    "0001101",
    "0011001",
    "0010011",
    "0111101",
    "0100011",
    "0110001",
    "0101111",
    "0111011",
    "0110111",
    "0001011",
)
_EAN_G = tuple(p[::-1].translate(str.maketrans("01", "10")) for p in _EAN_L)
_EAN_R = tuple(p.translate(str.maketrans("01", "10")) for p in _EAN_L)
_EAN_PARITY = (
    "LLLLLL",
    "LLGLGG",
    "LLGGLG",
    "LLGGGL",
    "LGLLGG",
    "LGGLLG",
    "LGGGLL",
    "LGLGLG",
    "LGLGGL",
    "LGGLGL",
)
_CODE39 = {
    "0": "nnnwwnwnn",
    "1": "wnnwnnnnw",
    "2": "nnwwnnnnw",
    "3": "wnwwnnnnn",
    "4": "nnnwwnnnw",
    "5": "wnnwwnnnn",
    "6": "nnwwwnnnn",
    "7": "nnnwnnwnw",
    "8": "wnnwnnwnn",
    "9": "nnwwnnwnn",
    "A": "wnnnnwnnw",
    "B": "nnwnnwnnw",
    "C": "wnwnnwnnn",
    "D": "nnnnwwnnw",
    "E": "wnnnwwnnn",
    "F": "nnwnwwnnn",
    "G": "nnnnnwwnw",
    "H": "wnnnnwwnn",
    "I": "nnwnnwwnn",
    "J": "nnnnwwwnn",
    "K": "wnnnnnnww",
    "L": "nnwnnnnww",
    "M": "wnwnnnnwn",
    "N": "nnnnwnnww",
    "O": "wnnnwnnwn",
    "P": "nnwnwnnwn",
    "Q": "nnnnnnwww",
    "R": "wnnnnnwwn",
    "S": "nnwnnnwwn",
    "T": "nnnnwnwwn",
    "U": "wwnnnnnnw",
    "V": "nwwnnnnnw",
    "W": "wwwnnnnnn",
    "X": "nwnnwnnnw",
    "Y": "wwnnwnnnn",
    "Z": "nwwnwnnnn",
    "-": "nwnnnnwnw",
    ".": "wwnnnnwnn",
    " ": "nwwnnnwnn",
    "$": "nwnwnwnnn",
    "/": "nwnwnnnwn",
    "+": "nwnnnwnwn",
    "%": "nnnwnwnwn",
    "*": "nwnnwnwnn",
}
_CODE128 = (
    "212222",
    "222122",
    "222221",
    "121223",
    "121322",
    "131222",
    "122213",
    "122312",
    "132212",
    "221213",
    "221312",
    "231212",
    "112232",
    "122132",
    "122231",
    "113222",
    "123122",
    "123221",
    "223211",
    "221132",
    "221231",
    "213212",
    "223112",
    "312131",
    "311222",
    "321122",
    "321221",
    "312212",
    "322112",
    "322211",
    "212123",
    "212321",
    "232121",
    "111323",
    "131123",
    "131321",
    "112313",
    "132113",
    "132311",
    "211313",
    "231113",
    "231311",
    "112133",
    "112331",
    "132131",
    "113123",
    "113321",
    "133121",
    "313121",
    "211331",
    "231131",
    "213113",
    "213311",
    "213131",
    "311123",
    "311321",
    "331121",
    "312113",
    "312311",
    "332111",
    "314111",
    "221411",
    "431111",
    "111224",
    "111422",
    "121124",
    "121421",
    "141122",
    "141221",
    "112214",
    "112412",
    "122114",
    "122411",
    "142112",
    "142211",
    "241211",
    "221114",
    "413111",
    "241112",
    "134111",
    "111242",
    "121142",
    "121241",
    "114212",
    "124112",
    "124211",
    "411212",
    "421112",
    "421211",
    "212141",
    "214121",
    "412121",
    "111143",
    "111341",
    "131141",
    "114113",
    "114311",
    "411113",
    "411311",
    "113141",
    "114131",
    "311141",
    "411131",
    "211412",
    "211214",
    "211232",
    "2331112",
)


def _widths_to_modules(widths: str) -> str:
    return "".join(("1" if i % 2 == 0 else "0") * int(w) for i, w in enumerate(widths))


def _ean_check(digits: str) -> str:
    """The EAN/UPC check digit: weights 3, 1, 3, ... from the rightmost data digit."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(digits)))
    return str((10 - total % 10) % 10)


def barcode_modules(kind: str, data: str) -> str | None:
    """The bar pattern (``"1"`` bar, ``"0"`` space, one char per module) or None when not drawn exactly."""
    if kind in ("EAN13", "UPC-A") and data.isdigit():
        digits = data if kind == "EAN13" else "0" + data
        if len(digits) == 12:
            digits += _ean_check(digits)
        if len(digits) != 13:
            return None
        parity = _EAN_PARITY[int(digits[0])]
        left = "".join((_EAN_L if p == "L" else _EAN_G)[int(d)] for p, d in zip(parity, digits[1:7], strict=True))
        right = "".join(_EAN_R[int(d)] for d in digits[7:])
        return "101" + left + "01010" + right + "101"
    if kind == "EAN8" and data.isdigit() and len(data) in (7, 8):
        digits = data if len(data) == 8 else data + _ean_check(data)
        return (
            "101"
            + "".join(_EAN_L[int(d)] for d in digits[:4])
            + "01010"
            + "".join(_EAN_R[int(d)] for d in digits[4:])
            + "101"
        )
    if kind == "CODE39":
        body = data.strip("*").upper()
        if not all(c in _CODE39 for c in body):
            return None
        out = []
        for c in "*" + body + "*":
            out.append(
                "".join(("1" if i % 2 == 0 else "0") * (3 if e == "w" else 1) for i, e in enumerate(_CODE39[c])) + "0"
            )
        return "".join(out)
    if kind == "CODE128":
        return _code128(data)
    return None


def _code128(data: str) -> str | None:
    """CODE128 as ESC/POS sends it: ``{A``/``{B``/``{C`` selects the code set."""
    values: list[int] = []
    i = 0
    codeset = ""
    while i < len(data):
        if data[i] == "{" and i + 1 < len(data) and data[i + 1] in "ABC":
            new = data[i + 1]
            if not values:
                values.append({"A": 103, "B": 104, "C": 105}[new])
            else:
                values.append({"A": 101, "B": 100, "C": 99}[new])
            codeset = new
            i += 2
            continue
        if not codeset:
            codeset = "B"
            values.append(104)
        ch = data[i]
        if codeset == "C":
            pair = data[i : i + 2]
            if len(pair) != 2 or not pair.isdigit():
                return None
            values.append(int(pair))
            i += 2
            continue
        code = ord(ch)
        if (codeset == "B" and 32 <= code <= 127) or (codeset == "A" and 32 <= code <= 95):
            values.append(code - 32)
        elif codeset == "A" and code < 32:
            values.append(code + 64)
        else:
            return None
        i += 1
    if not values:
        return None
    check = (values[0] + sum(v * k for k, v in enumerate(values[1:], start=1))) % 103
    return "".join(_widths_to_modules(_CODE128[v]) for v in [*values, check, 106]) + "00"
