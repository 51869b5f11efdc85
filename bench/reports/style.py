"""The look shared by the run, case and lot reports: outcome colours, the one stylesheet, the page head."""

from __future__ import annotations

import html
from collections.abc import Sequence

from bench.reports.fonts import font_face_css
from drivers.i18n import current_language

COLOURS = {
    "PASS": "#1a7f37",
    "FAIL": "#cf222e",
    "TIMEOUT": "#bc4c00",
    "ERROR": "#9a6700",
    "SKIP": "#6e7781",
    "INCOMPLETE": "#9a6700",
    "ABORTED": "#8250df",
    "RUNNING": "#0969da",
}

CSS = """
:root{--ink:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 "bench-cjk",system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;
  color:var(--ink);background:#fff}
main{max-width:1100px;margin:0 auto;padding:0 28px 28px}
h1{font-size:26px;margin:0 0 2px}
h2{font-size:19px;margin:28px 0 10px;padding-bottom:4px;border-bottom:1px solid var(--line)}
h3{font-size:16px;margin:0 0 8px;display:flex;align-items:center;gap:10px;flex-wrap:wrap}
code,pre{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:13px}
a{color:#0969da;text-decoration:none}
header.top{display:flex;gap:24px;align-items:center;padding:22px 28px;background:var(--bg);
  border-top:8px solid var(--c);border-bottom:1px solid var(--line)}
header.top .verdict{font-size:30px;font-weight:800;letter-spacing:.04em;color:#fff;background:var(--c);
  padding:10px 22px;border-radius:8px;min-width:120px;text-align:center;white-space:nowrap}
header.top .summary{font-size:17px;margin:2px 0 6px}
header.top .meta{color:var(--muted);margin:0;font-size:14px}
.pill{display:inline-block;padding:0 8px;border-radius:10px;background:var(--c);color:#fff;
  font-size:12px;font-weight:600}
.badge{display:inline-block;padding:1px 9px;border-radius:4px;background:var(--c);color:#fff;font-size:12px;
  font-weight:700;letter-spacing:.03em}
.badge.small{font-size:11px;padding:0 6px}
.finding{border:1px solid var(--line);border-left:6px solid #cf222e;border-radius:6px;padding:12px 16px;
  margin:10px 0}
.finding.bench{border-left-color:#9a6700}
.fhead{display:flex;align-items:center;gap:10px;flex-wrap:wrap;font-size:16px}
.rank{display:inline-flex;width:24px;height:24px;border-radius:12px;background:var(--ink);color:#fff;
  align-items:center;justify-content:center;font-size:13px;font-weight:700}
.fault{background:#ffebe9;color:#a40e26;padding:1px 6px;border-radius:4px;font-weight:600}
.finding.bench .fault{background:#fff8c5;color:#7d4e00}
.tag{font-size:12px;border:1px solid var(--line);border-radius:10px;padding:0 8px;color:var(--muted)}
.tag.unit{border-color:#cf222e;color:#a40e26}.tag.bench{border-color:#9a6700;color:#7d4e00}
.finding.operator{border-left-color:#6e7781}.tag.operator{border-color:#6e7781;color:#59636e}
.finding dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 16px;margin:8px 0 0}
.finding dt{color:var(--muted)}.finding dd{margin:0}
.ok{color:#1a7f37;font-weight:600}
dl.grid{display:grid;grid-template-columns:repeat(4,1fr);gap:10px 18px;margin:0}
dl.grid dt{font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em}
dl.grid dd{margin:0;font-weight:600;overflow-wrap:anywhere}
table{border-collapse:collapse;width:100%}
th{text-align:left;font-size:12px;color:var(--muted);text-transform:uppercase;letter-spacing:.04em;
  font-weight:600}
th,td{padding:5px 10px;border-bottom:1px solid var(--line);vertical-align:middle}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
table.overview{margin-bottom:14px}
article.step{border:1px solid var(--line);border-left:6px solid var(--c);border-radius:6px;
  padding:12px 16px;margin:12px 0;
  break-inside:avoid}
.idx{color:var(--muted);font-weight:400}
.check{color:var(--muted);font-weight:400;font-size:13px;margin-left:auto}
.message{margin:4px 0 8px;font-weight:600;color:var(--c)}
table.measurements td.value{font-weight:600;font-variant-numeric:tabular-nums;white-space:nowrap}
table.measurements tr.bad td{background:#fff5f5}
table.measurements tr.bad td.value{color:#cf222e}
td.chart{width:230px}
svg text{font:9px "bench-cjk",system-ui,"DejaVu Sans",sans-serif;fill:#59636e}
figure.soakchart{margin:10px 0}figure.soakchart svg{max-width:100%;height:auto}
svg.soak text.axis,svg.soak text.title{font-size:11px;fill:#1f2328}svg.soak text.none{font-size:12px}
pre.log{background:#0d1117;color:#e6edf3;padding:10px 12px;border-radius:6px;overflow-x:auto;margin:6px 0 0;
  white-space:pre-wrap;overflow-wrap:anywhere}
.logbox .loghead{font-size:12px;color:var(--muted);margin-top:8px}
details summary{cursor:pointer;color:var(--muted);font-size:13px;margin-top:6px}
figure.attachment{margin:10px 0;display:inline-block;border:1px solid var(--line);padding:8px;
  border-radius:6px;background:var(--bg)}
figure.attachment img{display:block;max-width:380px;image-rendering:pixelated;background:#fff}
figcaption{font-size:12px;color:var(--muted);margin-top:4px}
.note{color:var(--muted);font-size:13px;margin:0 0 8px}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:12px}
.trend{border:1px solid var(--line);border-radius:6px;padding:10px 12px}
.thead{display:flex;justify-content:space-between;gap:8px;font-size:14px}.thead span{color:var(--muted)}
.drift{margin:2px 0 0;font-size:13px;color:var(--muted)}.drift.warn{color:#bc4c00;font-weight:600}
footer{max-width:1100px;margin:0 auto;padding:14px 28px 28px;color:var(--muted);font-size:12px;
  border-top:1px solid var(--line)}
@media print{
  body{font-size:11pt}
  main{padding:0 8mm}
  header.top{padding:10px 8mm}
  *{-webkit-print-color-adjust:exact;print-color-adjust:exact}
  a{color:inherit}
  h2{break-after:avoid}
  details{display:none}
}
@media (max-width:800px){dl.grid{grid-template-columns:repeat(2,1fr)}}
""".strip()

#: What a report page may load: nothing but its own inline style, ``data:`` images and the embedded font.
CSP = "default-src 'none'; img-src data:; font-src data:; style-src 'unsafe-inline'"


def html_lang(language: str | None = None) -> str:
    """The ``lang`` attribute of a page in ``language`` (default: the current one): ``en``, ``zh-CN``."""
    return (language or current_language()).replace("_", "-")


def page(title: str, body: Sequence[str], *, generator: str | None = None, extra_css: str = "") -> str:
    """A whole report page: its head (language, CSP, title escaped here, the stylesheet and, when ``title`` or
    ``body`` has Chinese, the embedded CJK font of exactly its characters: :mod:`.fonts`), then ``body``'s lines."""
    text = "\n".join(body)
    face = font_face_css(title + text)
    lines = [
        "<!DOCTYPE html>",
        f'<html lang="{html_lang()}">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
    ]
    if generator:
        lines.append(f'<meta name="generator" content="{html.escape(generator, quote=True)}">')
    lines += [
        f"<title>{html.escape(title, quote=True)}</title>",
        f"<style>{CSS}" + (f"\n{extra_css}" if extra_css else "") + (f"\n{face}" if face else "") + "</style>",
        "</head>",
        "<body>",
        text,
    ]
    return "\n".join(lines)
