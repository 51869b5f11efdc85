"""Render ESC/POS bytes to a picture of the receipt (Pillow).

The same renderer draws what the simulated printer received and what bench sent to a
real printer, so a technician can hold the paper against the picture. It models an
80 mm printer: 576 dots wide, font A 12x24 dots, font B 9x17 dots, default line
spacing 30 dots.

Understood: text (code pages 437/850/858/1252), ``ESC !``, ``ESC E``/``ESC G`` bold,
``ESC -`` underline, ``GS !`` character size, ``GS B`` reverse, ``ESC a`` alignment,
``ESC M`` font, ``ESC 2``/``ESC 3`` line spacing, ``LF``/``ESC d``/``ESC J`` feeds,
``GS v 0`` raster images, ``GS ( L`` graphics, ``ESC *`` column images, ``GS k``
barcodes (EAN-13, UPC-A, EAN-8, CODE39, CODE128 drawn to their real patterns, other
types as labelled bars), ``GS ( k`` QR model 2 (redrawn from the stored data with the
``qrcode`` package when installed, else a labelled box), ``GS V`` cuts (a dashed line).
Status and information requests draw nothing.
"""

from __future__ import annotations

import importlib
import io
import logging
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from drivers.escpos.barcodes import barcode_modules
from drivers.escpos.parser import Command, commands
from drivers.i18n import is_wide

_LOG = logging.getLogger(__name__)

PAPER_DOTS = 576
FONT_A = (12, 24)
FONT_B = (9, 17)
DEFAULT_SPACING = 30
MARGIN = 16  # blank paper above and below the print
_FONT_FILES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationMono-Regular.ttf",
)
#: Fonts for Chinese characters (Debian ``fonts-wqy-microhei``, ``fonts-noto-cjk``, ``fonts-wqy-zenhei``).
_CJK_FONT_FILES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
)
_CODE_PAGES = {0: "cp437", 2: "cp850", 16: "cp1252", 19: "cp858"}
#: What a Chinese printer decodes in Chinese character mode (``FS &``).
_CHINESE = "gb18030"
_cjk_missing_said = False


@lru_cache(maxsize=4)
def _font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for path in _FONT_FILES:
        if Path(path).exists():
            return ImageFont.truetype(path, px)
    return ImageFont.load_default(size=px)


@lru_cache(maxsize=4)
def _cjk_font(px: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """A font with Chinese glyphs; without one, the text font (the log says so once: boxes on the receipt)."""
    global _cjk_missing_said
    for path in _CJK_FONT_FILES:
        if Path(path).exists():
            try:
                return ImageFont.truetype(path, px)
            except OSError as exc:
                _LOG.warning("receipt: CJK font %s not readable (%s)", path, exc)
    if not _cjk_missing_said:
        _cjk_missing_said = True
        _LOG.warning("receipt: no CJK font (install Debian's fonts-wqy-microhei): Chinese text is drawn without it")
    return _font(px)


@lru_cache(maxsize=2048)
def _glyph(ch: str, font_b: bool) -> Image.Image:
    """One character cell (mode "1", white 1 / black 0) at size 1x1; a Chinese character takes two cells."""
    w, h = FONT_B if font_b else FONT_A
    wide = is_wide(ch)
    if wide:
        w = h  # a Chinese character is square: 24 x 24 dots in font A
    cell = Image.new("1", (w, h), 1)
    if ch.strip():
        draw = ImageDraw.Draw(cell)
        font = _cjk_font(int(h * 0.9)) if wide else _font(int(h * 0.8))
        draw.text((w / 2, h * 0.85 if wide else h * 0.8), ch, font=font, fill=0, anchor="ms")
    return cell


@dataclass
class _Style:
    bold: bool = False
    underline: int = 0
    width: int = 1
    height: int = 1
    reverse: bool = False
    font_b: bool = False
    align: int = 0
    spacing: int = DEFAULT_SPACING
    codepage: str = "cp437"
    chinese: bool = False  # FS &: double-byte Chinese characters (GB 18030) until FS .
    barcode_height: int = 162
    barcode_module: int = 3
    hri: int = 0
    qr_module: int = 3
    qr_ec: str = "L"
    qr_data: bytes = b""
    graphics: Image.Image | None = None


@dataclass
class _Item:
    image: Image.Image  # mode "1"


@dataclass
class _Canvas:
    """The paper: a growing white image and the print position."""

    image: Image.Image = field(default_factory=lambda: Image.new("1", (PAPER_DOTS, 1200), 1))
    y: int = MARGIN

    def ensure(self, bottom: int) -> None:
        if bottom + MARGIN <= self.image.height:
            return
        grown = Image.new("1", (PAPER_DOTS, max(bottom + MARGIN, self.image.height * 2)), 1)
        grown.paste(self.image, (0, 0))
        self.image = grown

    def place(self, img: Image.Image, align: int) -> None:
        """Paste ``img`` at the print position with the justification, advance by its height."""
        width = min(img.width, PAPER_DOTS)
        x = {0: 0, 1: (PAPER_DOTS - width) // 2, 2: PAPER_DOTS - width}.get(align, 0)
        self.ensure(self.y + img.height)
        self.image.paste(img.crop((0, 0, width, img.height)), (x, self.y))
        self.y += img.height


class Renderer:
    """Interprets ESC/POS commands onto a canvas; :meth:`image` returns the receipt."""

    def __init__(self) -> None:
        self.style = _Style()
        self.canvas = _Canvas()
        self.line: list[_Item] = []
        self.line_width = 0
        self.unknown: list[str] = []

    # -- text lines
    def _add_char(self, ch: str) -> None:
        s = self.style
        cell = _glyph(ch, s.font_b)
        if s.bold:
            shifted = Image.new("1", cell.size, 1)
            shifted.paste(cell, (1, 0))
            cell = _darken(cell, shifted)  # emphasized: each dot printed twice, one dot apart
        if s.underline:
            cell = cell.copy()
            ImageDraw.Draw(cell).rectangle((0, cell.height - s.underline, cell.width, cell.height), fill=0)
        if s.width > 1 or s.height > 1:
            cell = cell.resize((cell.width * s.width, cell.height * s.height), Image.Resampling.NEAREST)
        if s.reverse:
            cell = cell.point(lambda v: 255 - v).convert("1")
        if self.line_width + cell.width > PAPER_DOTS:
            self._print_line()
        self.line.append(_Item(cell))
        self.line_width += cell.width

    def _text(self, data: bytes) -> None:
        encoding = _CHINESE if self.style.chinese else self.style.codepage
        for ch in data.decode(encoding, errors="replace"):
            self._add_char(ch)

    def _print_line(self, feed: bool = True) -> None:
        """Print the line buffer; with ``feed`` an empty buffer still feeds one line."""
        if not self.line:
            if feed:
                self.canvas.y += self.style.spacing
            return
        height = max(item.image.height for item in self.line)
        strip = Image.new("1", (self.line_width, height), 1)
        x = 0
        for item in self.line:
            strip.paste(item.image, (x, height - item.image.height))
            x += item.image.width
        top = self.canvas.y
        self.canvas.place(strip, self.style.align)
        self.canvas.y = top + max(height, self.style.spacing)
        self.line, self.line_width = [], 0

    # -- images, barcodes, QR
    def _raster(self, cmd: Command) -> None:
        self._print_line(feed=False)
        # args: "0" m xL xH yL yH
        mode = cmd.args[1] & 3
        width_bytes = int.from_bytes(cmd.args[2:4], "little")
        height = int.from_bytes(cmd.args[4:6], "little")
        img = _bits_to_image(cmd.data, width_bytes, height)
        if mode:
            img = img.resize(
                (img.width * (2 if mode & 1 else 1), img.height * (2 if mode & 2 else 1)),
                Image.Resampling.NEAREST,
            )
        self.canvas.place(img, self.style.align)

    def _graphics(self, cmd: Command) -> None:
        data = cmd.data
        if len(data) < 2:
            return
        fn = data[1]
        if fn in (112, 0x70) and len(data) >= 10:  # store raster graphics: m fn a bx by c xL xH yL yH d...
            width = int.from_bytes(data[6:8], "little")
            height = int.from_bytes(data[8:10], "little")
            self.style.graphics = _bits_to_image(data[10:], (width + 7) // 8, height).crop((0, 0, width, height))
        elif fn in (50, 2) and self.style.graphics is not None:  # print stored graphics
            self._print_line(feed=False)
            self.canvas.place(self.style.graphics, self.style.align)

    def _column_image(self, cmd: Command) -> None:
        m = cmd.args[0]
        columns = int.from_bytes(cmd.args[1:3], "little")
        rows = 24 if m >= 32 else 8
        img = Image.new("1", (columns, rows), 1)
        px = img.load()
        assert px is not None
        stride = rows // 8
        for x in range(columns):
            for k in range(stride):
                byte = cmd.data[x * stride + k] if x * stride + k < len(cmd.data) else 0
                for bit in range(8):
                    if byte & (0x80 >> bit):
                        px[x, k * 8 + bit] = 0
        self.line.append(_Item(img))
        self.line_width += img.width

    def _barcode(self, cmd: Command) -> None:
        self._print_line(feed=False)
        m = cmd.args[0]
        kind = m - 65 if m >= 65 else m
        names = {
            0: "UPC-A",
            1: "UPC-E",
            2: "EAN13",
            3: "EAN8",
            4: "CODE39",
            5: "ITF",
            6: "CODABAR",
            7: "CODE93",
            8: "CODE128",
        }
        name = names.get(kind, f"type {m}")
        text = cmd.data.decode("ascii", errors="replace")
        modules = barcode_modules(name, text)
        labelled = modules is None
        if modules is None:  # unknown symbology: bars from the bytes, labelled
            modules = "".join(f"{b:08b}" for b in cmd.data) or "1"
        unit = max(1, self.style.barcode_module)
        height = max(1, self.style.barcode_height)
        shown = text[2:] if name == "CODE128" and text[:1] == "{" else text
        hri_h = 24 if (self.style.hri & 2 or labelled) else 0
        hri_top = 24 if self.style.hri & 1 else 0
        width = min(PAPER_DOTS, len(modules) * unit)
        img = Image.new("1", (width, height + hri_h + hri_top), 1)
        draw = ImageDraw.Draw(img)
        for i, bit in enumerate(modules):
            if bit == "1" and i * unit < width:
                draw.rectangle((i * unit, hri_top, i * unit + unit - 1, hri_top + height - 1), fill=0)
        font = _font(18)
        label = f"[{name}] {shown}" if labelled else shown
        if hri_top:
            draw.text((width / 2, 20), label, font=font, fill=0, anchor="ms")
        if hri_h:
            draw.text((width / 2, hri_top + height + 20), label, font=font, fill=0, anchor="ms")
        self.canvas.place(img, self.style.align)

    def _qr(self, cmd: Command) -> None:
        data = cmd.data
        if len(data) < 2 or data[0] != 49:  # cn 49 = QR code
            return
        fn, rest = data[1], data[2:]
        if fn == 67 and rest:
            self.style.qr_module = max(1, rest[0])
        elif fn == 69 and rest:
            self.style.qr_ec = {48: "L", 49: "M", 50: "Q", 51: "H"}.get(rest[0], "L")
        elif fn == 80:
            self.style.qr_data = bytes(rest[1:])
        elif fn == 81:
            self._print_line(feed=False)
            self.canvas.place(qr_image(self.style.qr_data, self.style.qr_module, self.style.qr_ec), self.style.align)

    def _cut(self, cmd: Command) -> None:
        self._print_line(feed=False)
        if len(cmd.args) == 2:
            self.canvas.y += cmd.args[1]
        self.canvas.y += 8
        self.canvas.ensure(self.canvas.y + 4)
        draw = ImageDraw.Draw(self.canvas.image)
        for x in range(0, PAPER_DOTS, 24):
            draw.rectangle((x, self.canvas.y, x + 13, self.canvas.y + 1), fill=0)
        self.canvas.y += 10

    # -- the interpreter
    def feed(self, data: bytes) -> None:
        """Interpret a complete byte stream."""
        for cmd in commands(data):
            self.execute(cmd)

    def execute(self, cmd: Command) -> None:
        """Apply one command."""
        s = self.style
        a = cmd.args[0] if cmd.args else 0
        name = cmd.name
        if name == "text":
            self._text(cmd.data)
        elif name in ("LF", "FF"):
            self._print_line()
        elif name == "ESC d":
            self._print_line()
            self.canvas.y += s.spacing * max(0, a - 1)
        elif name == "ESC J":
            self._print_line(feed=False)
            self.canvas.y += a
        elif name == "ESC @":
            self.style = _Style()
        elif name == "ESC !":
            s.font_b, s.bold = bool(a & 1), bool(a & 8)
            s.height, s.width = (2 if a & 16 else 1), (2 if a & 32 else 1)
            s.underline = 1 if a & 128 else 0
        elif name in ("ESC E", "ESC G"):
            s.bold = bool(a & 1)
        elif name == "ESC -":
            s.underline = a % 48 if a >= 48 else a
        elif name == "ESC a":
            s.align = a % 48 if a >= 48 else a
        elif name == "ESC M":
            s.font_b = (a % 48 if a >= 48 else a) == 1
        elif name == "ESC 2":
            s.spacing = DEFAULT_SPACING
        elif name == "ESC 3":
            s.spacing = a
        elif name == "ESC t":
            s.codepage = _CODE_PAGES.get(a, "cp437")
        elif name in ("FS &", "FS ."):
            s.chinese = name == "FS &"
        elif name == "GS !":
            s.width, s.height = ((a >> 4) & 7) + 1, (a & 7) + 1
        elif name == "GS B":
            s.reverse = bool(a & 1)
        elif name == "GS h":
            s.barcode_height = a
        elif name == "GS w":
            s.barcode_module = a
        elif name == "GS H":
            s.hri = a % 48 if a >= 48 else a
        elif name == "GS v 0":
            self._raster(cmd)
        elif name == "GS ( L" or name == "GS 8 L":
            self._graphics(cmd)
        elif name == "ESC *":
            self._column_image(cmd)
        elif name == "GS k":
            self._barcode(cmd)
        elif name == "GS ( k":
            self._qr(cmd)
        elif name == "GS V":
            self._cut(cmd)
        elif name in ("unknown", "incomplete"):
            self.unknown.append(cmd.data.hex() or cmd.args.hex())

    def image(self) -> Image.Image:
        """The receipt so far (pending text included), cropped to what was printed."""
        if self.line:
            self._print_line()
        bottom = min(self.canvas.image.height, self.canvas.y + MARGIN)
        return self.canvas.image.crop((0, 0, PAPER_DOTS, max(bottom, 2 * MARGIN))).convert("L")


def _darken(a: Image.Image, b: Image.Image) -> Image.Image:
    """Black wherever either image is black (mode "1")."""
    from PIL import ImageChops

    return ImageChops.logical_and(a, b)


def _bits_to_image(bits: bytes, width_bytes: int, height: int) -> Image.Image:
    """Raster rows (MSB left, 1 = black) to a mode "1" image (white 1)."""
    need = width_bytes * height
    data = bytes(bits[:need]).ljust(need, b"\x00")
    inverted = bytes(b ^ 0xFF for b in data)
    return Image.frombytes("1", (width_bytes * 8, height), inverted)


def qr_image(data: bytes, module: int, ec: str = "L") -> Image.Image:
    """A QR code for ``data`` with ``module``-dot modules; a labelled box without ``qrcode``."""
    try:
        qrcode = importlib.import_module("qrcode")
    except ImportError:
        size = 25 * module
        img = Image.new("1", (size, size), 1)
        draw = ImageDraw.Draw(img)
        draw.rectangle((0, 0, size - 1, size - 1), outline=0, width=3)
        draw.text((6, 6), "QR", font=_font(14), fill=0)
        draw.text((6, 24), data.decode("utf-8", errors="replace")[:20], font=_font(10), fill=0)
        return img
    levels = {
        "L": qrcode.ERROR_CORRECT_L,
        "M": qrcode.ERROR_CORRECT_M,
        "Q": qrcode.ERROR_CORRECT_Q,
        "H": qrcode.ERROR_CORRECT_H,
    }
    code = qrcode.QRCode(box_size=module, border=0, error_correction=levels.get(ec, levels["L"]))
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    n = len(matrix)
    img = Image.new("1", (n * module, n * module), 1)
    draw = ImageDraw.Draw(img)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                draw.rectangle((c * module, r * module, c * module + module - 1, r * module + module - 1), fill=0)
    return img


def render(data: bytes) -> Image.Image:
    """Render an ESC/POS byte stream to a grayscale receipt image (white paper, black ink)."""
    r = Renderer()
    r.feed(data)
    if r.unknown:
        _LOG.debug("renderer skipped %d unknown command(s): %s", len(r.unknown), r.unknown[:5])
    return r.image()


def render_png(data: bytes) -> bytes:
    """Render an ESC/POS byte stream to PNG bytes."""
    buf = io.BytesIO()
    render(data).save(buf, format="PNG")
    return buf.getvalue()
