"""python-telegram-bot's calls to the Bot API over aiohttp's connection pool.

PTB's default transport (httpx) spends about 1 ms of CPU on each call, several times what
the rest of sending a message costs. aiohttp's client keeps connections alive in a pool
written in C where it counts (its HTTP parser); it is a well-kept library, so we need no
HTTP client of our own. Every call goes through it: form-encoded calls, uploads (multipart)
and long polling. Errors come out as PTB's: `TimedOut` (a full pool says the request was
not sent), `NetworkError`; PTB itself turns the HTTP status into `RetryAfter`, `Forbidden`.

A request is never sent twice here: a kept-alive connection the server closed meanwhile
fails that call with `NetworkError`, and the caller decides (the outbox retries).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiohttp
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

FORM = "application/x-www-form-urlencoded"


@dataclass(frozen=True)
class _Timeouts:
    connect: float | None
    read: float | None
    write: float | None
    pool: float | None


class AiohttpRequest(BaseRequest):
    """PTB's request interface on one aiohttp session and its pool of connections."""

    def __init__(
        self,
        *,
        connection_pool_size: int = 16,
        connect_timeout: float | None = 5.0,
        read_timeout: float | None = 5.0,
        write_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
        media_write_timeout: float | None = 20.0,
    ) -> None:
        self._defaults = _Timeouts(connect_timeout, read_timeout, write_timeout, pool_timeout)
        self._media_write_timeout = media_write_timeout
        self._pool_size = connection_pool_size
        # Our own count of connections in use: aiohttp's pool wait has no timeout of its own
        # (it is part of `connect`), and PTB wants "not sent" told apart from "no answer".
        self._slots = asyncio.Semaphore(connection_pool_size)
        self._session: aiohttp.ClientSession | None = None

    @property
    def read_timeout(self) -> float | None:
        return self._defaults.read

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._pool_size),
                headers={"User-Agent": self.USER_AGENT},
                trust_env=False,
            )

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized")
        uploads = request_data is not None and request_data.contains_files
        default_write = self._media_write_timeout if uploads else self._defaults.write
        timeouts = _Timeouts(
            connect=_given(connect_timeout, self._defaults.connect),
            read=_given(read_timeout, self._defaults.read),
            write=_given(write_timeout, default_write),
            pool=_given(pool_timeout, self._defaults.pool),
        )
        await self._take_slot(timeouts.pool)
        try:
            return await self._exchange(url, method, request_data, timeouts)
        finally:
            self._slots.release()

    async def _take_slot(self, pool_timeout: float | None) -> None:
        try:
            async with asyncio.timeout(pool_timeout):
                await self._slots.acquire()
        except TimeoutError:
            raise TimedOut(
                "Pool timeout: all connections are in use; the request was not sent"
            ) from None

    async def _exchange(
        self, url: str, method: str, request_data: RequestData | None, timeouts: _Timeouts
    ) -> tuple[int, bytes]:
        assert self._session is not None
        body, headers = _body(request_data)
        # aiohttp has no write timeout: sending counts against the read's, plus the write's.
        sending = (timeouts.write or 0) if body is not None else 0
        timeout = aiohttp.ClientTimeout(
            total=None,
            sock_connect=timeouts.connect,
            sock_read=None if timeouts.read is None else timeouts.read + sending,
        )
        try:
            async with self._session.request(
                method, url, data=body, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        except TimeoutError as error:  # aiohttp's timeouts are TimeoutErrors too
            raise TimedOut() from error
        except aiohttp.ClientError as error:
            raise NetworkError(f"aiohttp.{type(error).__name__}: {error}") from error


def _body(
    request_data: RequestData | None,
) -> tuple[bytes | aiohttp.FormData | None, dict[str, str]]:
    """Form-encoded parameters, or a multipart form when the call uploads files."""
    if request_data is None:
        return None, {}
    if not request_data.contains_files:
        return request_data.url_encoded_parameters().encode(), {"Content-Type": FORM}
    form = aiohttp.FormData()
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, mimetype) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename, content_type=mimetype)
    return form, {}


def _given(value: object, default: float | None) -> float | None:
    return default if value is BaseRequest.DEFAULT_NONE else value  # type: ignore[return-value]
