"""The CJK font of the HTML reports: a Debian font, cut to the characters a report uses, embedded in the page.

A report in Chinese must read the same on a desk PC without Chinese fonts, offline, and stay one
self-contained file: :func:`font_face_css` takes the font of a Debian package (``fonts-wqy-microhei``,
which ``make`` installs; ``fonts-noto-cjk`` or ``fonts-wqy-zenhei`` when present instead), keeps only the
glyphs of the page's wide characters (fontTools' subsetter: a few kB for a report) and gives an
``@font-face`` rule whose source is a ``data:`` URI. Nothing is fetched: the page's Content-Security-Policy
allows fonts from ``data:`` only. ``BENCH_CJK_FONT`` names another font file. Without a font the page
falls back to the reader's own fonts, and the log says so once.
"""

from __future__ import annotations

import base64
import functools
import io
import logging
import os
from pathlib import Path

_LOG = logging.getLogger(__name__)

#: The CSS family name of the embedded font (first in the page's font list; it only has the wide characters).
FAMILY = "bench-cjk"
#: Debian's CJK fonts, in the order tried (``fonts-wqy-microhei`` is the one ``make`` installs).
CANDIDATES = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)
_warned = False


def wide_characters(text: str) -> str:
    """The characters of ``text`` the CJK font draws (CJK ideographs, kana, full-width forms and punctuation), sorted."""
    return "".join(sorted(c for c in set(text) if _is_wide(c)))  # each distinct character once: pages carry big data: URLs


def _is_wide(c: str) -> bool:
    o = ord(c)
    return (0x2E80 <= o <= 0x9FFF or 0xF900 <= o <= 0xFAFF or 0xFE30 <= o <= 0xFE4F or 0xFF00 <= o <= 0xFFEF
            or 0x20000 <= o <= 0x2FA1F)


def font_path() -> Path | None:
    """The CJK font file to embed: ``BENCH_CJK_FONT``, else the first of :data:`CANDIDATES` installed."""
    named = os.environ.get("BENCH_CJK_FONT")
    if named:
        return Path(named) if Path(named).is_file() else None
    return next((p for p in CANDIDATES if p.is_file()), None)


def font_face_css(text: str) -> str:
    """An ``@font-face`` rule embedding the glyphs of the wide characters of ``text``; ``""`` when it has none
    or no font can be read (then the reader's own fonts draw them, and the log says so once)."""
    chars = wide_characters(text)
    if not chars:
        return ""
    path = font_path()
    if path is None:
        _warn_once("no CJK font found (install Debian's fonts-wqy-microhei, or set BENCH_CJK_FONT): "
                   "the report's Chinese is drawn with the reader's own fonts")
        return ""
    try:
        data = _subset(str(path), chars)
    except Exception as exc:  # fontTools on a broken or foreign file: a report without the font, never none
        _warn_once(f"CJK font {path} not usable ({type(exc).__name__}: {exc}): the report's Chinese is drawn "
                   "with the reader's own fonts")
        return ""
    b64 = base64.b64encode(data).decode("ascii")
    return f'@font-face{{font-family:"{FAMILY}";src:url(data:font/woff;base64,{b64}) format("woff")}}'


@functools.lru_cache(maxsize=32)
def _subset(path: str, chars: str) -> bytes:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.flavor = "woff"
    options.notdef_outline = True
    options.drop_tables += ["FFTM"]
    options.name_IDs = [0, 1, 2, 3, 4, 5, 6]  # keep the font's names and licence notice
    font = TTFont(path, fontNumber=0, lazy=True) if path.lower().endswith((".ttc", ".otc")) else TTFont(path, lazy=True)
    try:
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=chars)
        subsetter.subset(font)
        out = io.BytesIO()
        font.flavor = "woff"
        font.save(out)
    finally:
        font.close()
    return out.getvalue()


def _warn_once(message: str) -> None:
    global _warned
    if not _warned:
        _warned = True
        _LOG.warning("%s", message)


__all__ = ["CANDIDATES", "FAMILY", "font_face_css", "font_path", "wide_characters"]
