"""Headers every answer carries, set in one place at the edge (the outermost middleware), so a
route, an error handler or another middleware cannot forget them:

- `X-Content-Type-Options: nosniff` on every answer: a browser never guesses a type other than
  the one Velora declared (JSON read as HTML, an image as a script).
- `Cache-Control: no-store` on every answer that does not choose its own caching: Velora's
  answers are somebody's data (orders, balances, the GDPR export), which no browser or shared
  cache may keep. What chooses its own keeps it: signed image links are cached publicly until
  they expire, and the static assets of /docs (paths under `cached`) are left to the
  browser.

Pure ASGI: it changes the start of the response only and passes the body through untouched,
so a streamed answer still streams. It sits outside the idempotency middleware on purpose:
that one reads `no-store` from a route as "holds a secret, never keep it" (a token), and must
not see the no-store added here to every answer."""

from __future__ import annotations

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class SafeHeaders:
    def __init__(self, app: ASGIApp, *, cached: tuple[str, ...] = ()) -> None:
        self.app = app
        self.cached = cached  # path prefixes whose answers may be cached as they say

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        cacheable = str(scope.get("path", "")).startswith(self.cached)

        async def send_safely(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["X-Content-Type-Options"] = "nosniff"
                if not cacheable and "cache-control" not in headers:
                    headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_safely)
