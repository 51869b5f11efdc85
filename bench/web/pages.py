"""The dashboard's routes: each page's HTML (a Jinja2 template) and its JSON twin (``?format=json``).

A handler reads its page's data on a pool worker (:mod:`bench.web.views`) and renders it. The
templates escape everything (autoescape) and mask PANs in every value they print (the
environment's ``finalize``); charts come as SVG from :mod:`bench.web.charts`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from importlib.resources import files
from typing import Any

import jinja2
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from bench import __version__
from bench.errors import EquipmentError
from bench.i18n import format_datetime
from bench.reports.style import COLOURS
from bench.reports.words import verdict_word
from bench.web import charts, views
from bench.web.pool import StorePool
from drivers.codecs.pan import redact
from drivers.i18n import N_, _, current_language, tr

_LOG = logging.getLogger(__name__)

#: The run report's own policy (inline CSS, data: images), as its <meta> says.
REPORT_CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; frame-ancestors 'self'"


def _masked(value: Any) -> Any:
    """Every value a template prints, PAN-masked (markup from the charts is ours, and left whole)."""
    if isinstance(value, str) and not isinstance(value, Markup):
        return redact(value)
    return value


def _when(t: datetime | None) -> str:
    """A time in UTC in the reader's way of writing it (``2026年12月7日 09:33:12``)."""
    return format_datetime(t.astimezone(UTC)) if t else "-"


def _percent(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def environment() -> jinja2.Environment:
    """The templates' environment: autoescape on everywhere, PANs masked, the charts and filters."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(files("bench.web") / "templates")),
        autoescape=True,
        finalize=_masked,
        undefined=jinja2.StrictUndefined,
    )
    env.filters.update(when=_when, percent=_percent, q=_quote)
    env.globals.update(yield_chart=charts.yield_chart, pareto_chart=charts.pareto_chart, sparkline=charts.sparkline,
                       colours=COLOURS, version=__version__, trend_points=views.TREND_POINTS, _=_,
                       is_up=views.is_up, verdict_word=verdict_word)
    return env


def _pool(request: Request) -> StorePool:
    pool: StorePool = request.app.state.pool
    return pool


def _wants_json(request: Request) -> bool:
    return request.query_params.get("format") == "json"


def _common(request: Request, title: str, version: int) -> dict[str, Any]:
    """What every page's template needs besides its data."""
    return {"title": title, "root": request.scope.get("root_path", ""), "q": request.query_params.get("q", ""),
            "live_version": version, "html_lang": current_language().replace("_", "-")}


async def _page(request: Request, template: str, read: Callable[[Any], dict[str, Any]], title: str,
                elsewhere: Callable[[dict[str, Any]], Response | None] | None = None) -> Response:
    """Read the page's data and answer with its template, or its JSON with ``?format=json``.

    ``elsewhere(data)`` may send a person to another page instead (the HTML answer only).
    """
    version = request.app.state.watcher.version  # before the read: a change during it is shown next time
    try:
        data = await _pool(request).run(read)
    except views.NotFound as exc:
        return _error(request, 404, exc.args[0])
    except EquipmentError as exc:
        return _error(request, 503, _unreadable(exc))
    if _wants_json(request):
        return JSONResponse(views.to_json(data))
    if elsewhere is not None and (moved := elsewhere(data)) is not None:
        return moved
    env: jinja2.Environment = request.app.state.templates
    html = env.get_template(template).render({**_common(request, title, version), **data})
    return HTMLResponse(html)


def _unreadable(exc: EquipmentError) -> str:
    return N_("the store cannot be read: {error}", error=exc.message)


def _error(request: Request, status: int, message: str) -> Response:
    """The error page (its JSON: ``{"error": ...}`` in English, as machine output is)."""
    if _wants_json(request):
        return JSONResponse({"error": redact(str(message))}, status_code=status)
    env: jinja2.Environment = request.app.state.templates
    context = {**_common(request, str(status), request.app.state.watcher.version), "q": "",
               "status": status, "message": tr(message)}
    return HTMLResponse(env.get_template("error.html").render(context), status_code=status)


def _now() -> datetime:
    return datetime.now(UTC)


async def overview(request: Request) -> Response:
    """``/``: the front page."""
    now = _now()
    return await _page(request, "overview.html", lambda s: views.overview(s, now), _("Fleet"))


async def bench(request: Request) -> Response:
    """``/benches/NAME``."""
    name, now = request.path_params["name"], _now()
    return await _page(request, "bench.html", lambda s: views.bench_page(s, name, now),
                       _("Bench {name}").format(name=name))


async def model(request: Request) -> Response:
    """``/models/NAME``."""
    name, now = request.path_params["name"], _now()
    return await _page(request, "model.html", lambda s: views.model_page(s, name, now),
                       _("Model {name}").format(name=name))


async def unit(request: Request) -> Response:
    """``/units/SERIAL``."""
    serial = request.path_params["serial"]
    return await _page(request, "unit.html", lambda s: views.unit_page(s, serial),
                       _("Unit {serial}").format(serial=serial))


async def run(request: Request) -> Response:
    """``/runs/ID``: the run's facts and its report."""
    run_id = request.path_params["run_id"]
    return await _page(request, "run.html", lambda s: views.run_page(s, run_id),
                       _("Run {id}").format(id=run_id[:8]))


async def run_report(request: Request) -> Response:
    """``/runs/ID/report``: the report page as ``bench report`` renders it, under its own policy."""
    run_id = request.path_params["run_id"]
    try:
        html = await _pool(request).run(lambda s: views.run_report(s, run_id))
    except views.NotFound as exc:
        return _error(request, 404, exc.args[0])
    except EquipmentError as exc:
        return _error(request, 503, _unreadable(exc))
    return HTMLResponse(html, headers={"content-security-policy": REPORT_CSP})


async def lots(request: Request) -> Response:
    """``/lots``."""
    return await _page(request, "lots.html", views.lots_page, _("Lots"))


async def search(request: Request) -> Response:
    """``/search?q=SERIAL``: units whose serial starts with it; straight to the unit whose serial it is."""
    q = request.query_params.get("q", "")

    def to_the_unit(found: dict[str, Any]) -> Response | None:
        exact = [u for u in found["units"] if u["serial"].casefold() == q.strip().casefold()]
        if len(exact) != 1:
            return None
        # a scanned serial opens its unit, even when longer serials start with it
        root = request.scope.get("root_path", "")
        return RedirectResponse(f"{root}/units/{_quote(exact[0]['serial'])}", status_code=303)

    return await _page(request, "search.html", lambda s: views.search_page(s, q), _("Search"), to_the_unit)


def _quote(text: str) -> str:
    from urllib.parse import quote

    return quote(text, safe="")


async def favicon(request: Request) -> Response:
    """``/favicon.ico``: browsers ask for it (a 404 would be a console error)."""
    svg = (files("bench.web") / "static" / "favicon.svg").read_bytes()
    return Response(svg, media_type="image/svg+xml")
