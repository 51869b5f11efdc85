"""What every response of the dashboard goes through: read-only, the token, and the browser's rules.

* Only GET and HEAD: anything else is 405 (the dashboard changes nothing).
* With a token (``bench serve --token``, ``BENCH_SERVE_TOKEN``), a request needs it: an
  ``Authorization: Bearer TOKEN`` header (scripts), or the ``bench_token`` cookie, which a
  ``?token=TOKEN`` in the address sets once (people; the address is then cleaned of it). Else 401.
* Every response carries a Content-Security-Policy allowing only the dashboard's own script, style
  and images (no inline script: device text that got through as markup would still not run), no
  framing by other sites, no referrer (an address may carry the token).

A plain ASGI middleware, so the server-sent events stream through it unbuffered.
"""

from __future__ import annotations

import hmac
import logging
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, quote, unquote, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from drivers.i18n import _

_LOG = logging.getLogger(__name__)

COOKIE = "bench_token"
#: The pages' policy: the app's own files only.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
       "frame-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'self'")
_HEADERS = [
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"cache-control", b"no-store"),
]


class Guard:
    """The ASGI middleware: method, token, security headers."""

    def __init__(self, app: ASGIApp, token: str | None = None) -> None:
        self.app = app
        self.token = token or None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _plain(send, 405, _("read-only: GET and HEAD only") + "\n", [(b"allow", b"GET, HEAD")])
            return
        if "\x00" in scope["path"] or b"%00" in scope.get("query_string", b""):  # PostgreSQL refuses NUL in text
            await _plain(send, 400, _("bad request: a NUL character in the address") + "\n", [])
            return
        if self.token is not None:
            given = _query_token(scope)
            if given is not None and _same(given, self.token):
                await _redirect_with_cookie(scope, send, self.token)
                return
            if not (_same(_bearer(scope) or "", self.token) or _same(_cookie(scope) or "", self.token)):
                await _plain(send, 401, _("a token is needed: Authorization: Bearer TOKEN, or ?token=TOKEN once") + "\n",
                             [(b"www-authenticate", b'Bearer realm="bench"')])
                return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                names = {k.lower() for k, _ in headers}
                if b"content-security-policy" not in names:
                    headers.append((b"content-security-policy", CSP.encode()))
                headers += [h for h in _HEADERS if h[0] not in names]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _same(given: str, token: str) -> bool:
    return hmac.compare_digest(given.encode(), token.encode())


def _header(scope: Scope, name: bytes) -> str | None:
    for k, v in scope.get("headers", []):
        if k.lower() == name:
            return str(v.decode("latin-1"))
    return None


def _bearer(scope: Scope) -> str | None:
    auth = _header(scope, b"authorization")
    if auth and auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    return None


def _cookie(scope: Scope) -> str | None:
    raw = _header(scope, b"cookie")
    if not raw:
        return None
    jar: SimpleCookie = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:  # a malformed cookie header is no token
        return None
    morsel = jar.get(COOKIE)
    return unquote(morsel.value) if morsel else None


def _query_token(scope: Scope) -> str | None:
    for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
        if k == "token":
            return v
    return None


async def _redirect_with_cookie(scope: Scope, send: Send, token: str) -> None:
    """303 to the same address without ``token=``, setting the cookie (HttpOnly, SameSite=Strict)."""
    rest = [(k, v) for k, v in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True)
            if k != "token"]
    root, raw = scope.get("root_path", ""), scope.get("raw_path")
    # as the client sent it (percent-encoded): a decoded path may hold '#', '?' or text a header cannot carry
    path = raw.decode("latin-1") if raw else quote(scope["path"], safe="/")
    if root and path != root and not path.startswith(root + "/"):
        path = root + path  # ASGI's path holds root_path (uvicorn); a server that leaves it out gets it added
    where = path + ("?" + urlencode(rest) if rest else "")
    secure = "; Secure" if scope.get("scheme") == "https" else ""
    # percent-encoded: a token's space, ';' or '=' would end the cookie's value
    cookie = f"{COOKIE}={quote(token, safe='')}; Path=/; HttpOnly; SameSite=Strict{secure}"
    await _plain(send, 303, "", [(b"location", where.encode("latin-1")), (b"set-cookie", cookie.encode("latin-1"))])


async def _plain(send: Send, status: int, text: str, headers: list[tuple[bytes, bytes]]) -> None:
    body = text.encode()
    all_headers: list[Any] = [(b"content-type", b"text/plain; charset=utf-8"),
                              (b"content-length", str(len(body)).encode()), *headers, *_HEADERS]
    await send({"type": "http.response.start", "status": status, "headers": all_headers})
    await send({"type": "http.response.body", "body": body})
