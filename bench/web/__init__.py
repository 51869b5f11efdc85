"""The fleet dashboard (``bench serve``): server-rendered pages over the store, live by server-sent events.

Modules, by job:

* :mod:`bench.web.app`: the Starlette application and its routes;
* :mod:`bench.web.pages`: each page's handler, its template and JSON twin (``?format=json``);
* :mod:`bench.web.views`: what each page reads from the store (:mod:`bench.store.dashboard`);
* :mod:`bench.web.charts`: yield, pareto and trend charts as inline SVG;
* :mod:`bench.web.live`: the version counter and the ``/events`` stream behind live refresh;
* :mod:`bench.web.pool`: the worker threads that own the store connections;
* :mod:`bench.web.security`: read-only, the token, the Content-Security-Policy;
* :mod:`bench.web.screenshots`: the README's screenshots, taken by headless Chromium.

Templates (``templates/``, Jinja2 with autoescape) and the stylesheet and script (``static/``) ship
with the package: nothing is fetched from the internet, nothing is built with Node.
"""
