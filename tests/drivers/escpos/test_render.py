"""The ESC/POS renderer draws what the bytes say, visibly: compare ink bounding boxes."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest
from PIL import Image, ImageOps

from drivers import escpos
from drivers.escpos.barcodes import barcode_modules
from drivers.escpos.render import PAPER_DOTS, render, render_png


def ink(img: Image.Image) -> tuple[int, int, int, int]:
    box = ImageOps.invert(img.convert("L")).getbbox()
    assert box is not None, "no ink at all"
    return box


def dark_pixels(img: Image.Image) -> int:
    return sum(1 for v in img.convert("L").tobytes() if v < 128)


def size(box: tuple[int, int, int, int]) -> tuple[int, int]:
    return box[2] - box[0], box[3] - box[1]


def test_png_is_576_wide_and_blank_without_ink() -> None:
    png = render_png(escpos.INIT)
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG" and img.width == PAPER_DOTS
    assert ImageOps.invert(img.convert("L")).getbbox() is None


def test_text_cells_are_font_a_12x24() -> None:
    w, h = size(ink(render(escpos.line("HHHHHHHHHH"))))
    assert 108 <= w <= 120  # ten 12-dot cells
    assert 12 <= h <= 24


def test_double_size_doubles_the_box() -> None:
    normal = size(ink(render(escpos.line("WIDE TEXT"))))
    wide = size(ink(render(escpos.size(2, 1) + escpos.line("WIDE TEXT"))))
    tall = size(ink(render(escpos.size(1, 2) + escpos.line("WIDE TEXT"))))
    both = size(ink(render(escpos.size(2, 2) + escpos.line("WIDE TEXT"))))
    assert wide[0] >= 2 * normal[0] - 2 and wide[1] == normal[1]
    assert tall[1] >= 2 * normal[1] - 2 and tall[0] == normal[0]
    assert both[0] >= 2 * normal[0] - 2 and both[1] >= 2 * normal[1] - 2


def test_bold_has_more_ink() -> None:
    normal = render(escpos.line("BOLD TEXT"))
    bold = render(escpos.bold() + escpos.line("BOLD TEXT"))
    assert dark_pixels(bold) > dark_pixels(normal) * 1.2
    # ESC ! 8 (emphasized through the print mode byte) is bold too
    assert dark_pixels(render(b"\x1b!\x08" + escpos.line("BOLD TEXT"))) == dark_pixels(bold)


def test_alignment_moves_the_line() -> None:
    left = ink(render(escpos.align("left") + escpos.line("abc")))
    center = ink(render(escpos.align("center") + escpos.line("abc")))
    right = ink(render(escpos.align("right") + escpos.line("abc")))
    assert left[0] < 10
    assert abs((center[0] + center[2]) / 2 - PAPER_DOTS / 2) < 10
    assert right[2] > PAPER_DOTS - 10


def test_line_feeds_move_down() -> None:
    one = ink(render(escpos.line("x") + escpos.line("x")))
    fed = ink(render(escpos.line("x") + escpos.feed(4) + escpos.line("x")))
    assert fed[3] - one[3] >= 3 * 30 - 2


def test_raster_image_exact_box() -> None:
    bits = b"\xff" * (8 * 32)  # 64 x 32 solid
    box = ink(render(escpos.raster(64, 32, bits)))
    assert size(box) == (64, 32)
    centered = ink(render(escpos.align("center") + escpos.raster(64, 32, bits)))
    assert centered[0] == (PAPER_DOTS - 64) // 2
    doubled = ink(render(escpos.raster(64, 32, bits, scale=3)))
    assert size(doubled) == (128, 64)


def test_qr_is_a_real_square_code() -> None:
    qrcode = pytest.importorskip("qrcode")
    img = render(escpos.qr("https://example.com", module=4, ec="M"))
    w, h = size(ink(img))
    code = qrcode.QRCode(border=0, error_correction=qrcode.ERROR_CORRECT_M)
    code.add_data("https://example.com")
    code.make(fit=True)
    n = len(code.get_matrix())
    assert w == h == 4 * n
    bigger = size(ink(render(escpos.qr("https://example.com", module=8, ec="M"))))
    assert bigger == (8 * n, 8 * n)


def test_ean13_barcode_is_95_modules() -> None:
    box = ink(render(escpos.barcode("4006381333931", "EAN13", height=50, module=2, hri=0)))
    assert size(box) == (95 * 2, 50)
    assert barcode_modules("EAN13", "400638133393") == barcode_modules("EAN13", "4006381333931")


def test_code128_and_hri_text() -> None:
    bare = ink(render(escpos.barcode("BENCH-1", "CODE128", height=40, module=2, hri=0)))
    with_text = ink(render(escpos.barcode("BENCH-1", "CODE128", height=40, module=2, hri=2)))
    assert size(bare)[1] == 40
    assert with_text[3] > bare[3] + 8  # human-readable text drawn below the bars
    modules = barcode_modules("CODE128", "{BBENCH-1")
    assert modules is not None and modules.startswith("11010010000")  # start code B


def test_cut_draws_a_dashed_line_across() -> None:
    no_cut = render(escpos.line("x"))
    cut = render(escpos.line("x") + escpos.cut())
    box = ink(cut)
    assert box[2] - box[0] > PAPER_DOTS - 30
    assert cut.height > no_cut.height
    row = [cut.getpixel((x, box[3] - 1)) for x in range(PAPER_DOTS)]
    assert 0 in row and 255 in row  # dashed, not solid


def test_unknown_bytes_do_not_crash() -> None:
    img = render(b"\x1b\x99junk\x1d\xfe\x01" + escpos.line("after"))
    assert ink(img)


def _cells(img: Image.Image, first: int, count: int, width: int) -> list[bytes]:
    left = ink(img)[0]
    top, bottom = ink(img)[1], ink(img)[3]
    return [img.crop((left + first + i * width, top, left + first + (i + 1) * width, bottom)).tobytes()
            for i in range(count)]


@pytest.fixture
def _fresh_glyphs() -> Iterator[None]:
    from drivers.escpos import render as module

    module._glyph.cache_clear()
    module._cjk_font.cache_clear()
    yield
    module._glyph.cache_clear()
    module._cjk_font.cache_clear()


def test_chinese_receipt_text_is_drawn_with_a_cjk_font(_fresh_glyphs: None) -> None:
    data = escpos.line("合计 12.50")
    assert data == b"\x1c&" + "合计".encode("gb18030") + b"\x1c." + b" 12.50\n"  # Chinese mode, GB 18030
    img = render(data)
    w, _ = size(ink(img))
    assert 100 <= w <= 120  # two square 24-dot characters, then six 12-dot cells
    he, ji = _cells(img, 0, 2, 24)
    assert he != ji  # two real, different characters, not two "missing glyph" boxes


def test_without_a_cjk_font_chinese_is_drawn_anyway_and_the_log_says_so_once(
        _fresh_glyphs: None, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from drivers.escpos import render as module

    monkeypatch.setattr(module, "_CJK_FONT_FILES", ("/nonexistent/cjk.ttc",))
    monkeypatch.setattr(module, "_cjk_missing_said", False)
    with caplog.at_level(logging.WARNING, logger="drivers.escpos.render"):
        first, second = render(escpos.line("合计 12.50")), render(escpos.line("谢谢"))
    assert size(ink(first))[0] >= 100 and dark_pixels(second) > 0
    said = [r.getMessage() for r in caplog.records if r.name == "drivers.escpos.render"]
    assert len(said) == 1 and "no CJK font" in said[0]
