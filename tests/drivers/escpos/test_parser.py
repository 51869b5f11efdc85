"""The ESC/POS tokenizer names every command and waits for split ones."""

from __future__ import annotations

from drivers import escpos


def test_parser_names_commands() -> None:
    data = (
        escpos.INIT
        + escpos.bold()
        + b"AB\n"
        + escpos.status_request(2)
        + escpos.raster(8, 1, b"\x80")
        + escpos.barcode("12", "CODE39")
        + b"\x1dk\x04*1*\x00"
        + escpos.qr("x")
        + escpos.cut(feed_dots=3)
    )
    names = [c.name for c in escpos.commands(data)]
    assert names == [
        "ESC @",
        "ESC E",
        "text",
        "LF",
        "DLE EOT",
        "GS v 0",
        "GS h",
        "GS w",
        "GS H",
        "GS k",
        "GS k",
        "GS ( k",
        "GS ( k",
        "GS ( k",
        "GS ( k",
        "GS ( k",
        "GS V",
    ]
    cmds = list(escpos.commands(data))
    assert cmds[4].realtime and cmds[4].args == b"\x02"
    assert cmds[9].data == b"12" and cmds[10].data == b"*1*"


def test_parser_waits_for_split_commands() -> None:
    data = b"AB" + escpos.raster(8, 2, b"\x80\x01")
    cmds, used = escpos.parse(data[:-1], final=False)
    assert [c.name for c in cmds] == ["text"] and used == 2
    cmds, used = escpos.parse(data[:-1], final=True)
    assert cmds[-1].name == "incomplete" and used == len(data) - 1
    assert escpos.next_command(data, 2) == (escpos.Command("GS v 0", data[4:10], b"\x80\x01"), len(data))
