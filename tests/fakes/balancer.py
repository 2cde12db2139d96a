"""A round-robin HTTP load balancer on 127.0.0.1, as the reverse proxy of compose.yaml is.

Each request goes to the next upstream in turn; an upstream that refuses the connection
(a process killed) is skipped for the next one, as nginx's `proxy_next_upstream error`
does. `served` counts, per upstream, the requests it answered.
"""

from __future__ import annotations

import itertools
from collections import Counter

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.fakes.telegram import LoopbackServer

# Hop-by-hop headers a proxy does not pass on.
_HOP = frozenset({"connection", "keep-alive", "transfer-encoding", "host", "content-length"})


class RoundRobin:
    def __init__(self, upstreams: list[str], *, timeout: float = 30.0) -> None:
        self.upstreams = list(upstreams)
        self.served: Counter[str] = Counter()
        self.refused: Counter[str] = Counter()
        self._turn = itertools.cycle(range(len(self.upstreams)))
        self._timeout = timeout
        self._http: httpx.AsyncClient | None = None
        self.app = Starlette(routes=[Route("/{path:path}", self._forward, methods=["GET", "POST"])])
        self._server = LoopbackServer(self.app, timeout=timeout)

    @property
    def url(self) -> str:
        return self._server.url

    async def __aenter__(self) -> RoundRobin:
        self._http = httpx.AsyncClient(timeout=self._timeout, trust_env=False)
        await self._server.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self._server.stop()
        if self._http is not None:
            await self._http.aclose()

    async def _forward(self, request: Request) -> Response:
        assert self._http is not None
        body = await request.body()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP}
        first = next(self._turn)
        for step in range(len(self.upstreams)):
            upstream = self.upstreams[(first + step) % len(self.upstreams)]
            try:
                answer = await self._http.request(
                    request.method,
                    f"{upstream}{request.url.path}",
                    params=request.query_params,
                    content=body,
                    headers=headers,
                )
            except httpx.ConnectError:
                self.refused[upstream] += 1
                continue
            self.served[upstream] += 1
            return Response(answer.content, status_code=answer.status_code)
        return Response(status_code=502)
