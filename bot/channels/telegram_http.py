"""A lean HTTP/1.1 transport for python-telegram-bot's calls to the Bot API.

PTB's default transport (httpx) spends about 1 ms of CPU on each call, several times
what the rest of sending a message costs, so it decides how many messages a core can
send. This one speaks HTTP/1.1 with h11 (the protocol engine httpx itself uses) over
asyncio streams kept alive in a pool: about 0.15 ms a call. It does what the Bot API
needs: form-encoded POSTs and GETs, over http or https, without a proxy; an upload
(multipart) goes through PTB's HTTPXRequest. Errors come out as PTB's: `TimedOut`,
`NetworkError`; PTB itself turns the HTTP status into `RetryAfter`, `Forbidden`, ...

A request is never sent twice here: a kept-alive connection the server closed meanwhile
fails that call with `NetworkError`, and the caller decides (the outbox retries).
"""

from __future__ import annotations

import asyncio
import ssl
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlsplit

import h11
import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, HTTPXRequest, RequestData

FORM = "application/x-www-form-urlencoded"
READ_SIZE = 65_536


@dataclass(frozen=True)
class _Target:
    origin: tuple[str, str, int]  # scheme, host, port
    host_header: str
    path: str


@lru_cache(maxsize=256)
def _target(url: str) -> _Target:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise NetworkError(f"cannot request {url!r}: only http and https URLs")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return _Target((parts.scheme, parts.hostname, port), parts.netloc, path)


@dataclass(frozen=True)
class _Timeouts:
    connect: float | None
    read: float | None
    write: float | None
    pool: float | None


class _Connection:
    """One kept-alive connection and its HTTP/1.1 state."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer
        self.http = h11.Connection(h11.CLIENT)

    def reusable(self) -> bool:
        return (
            self.http.our_state is h11.IDLE
            and not self.writer.is_closing()
            and not self.reader.at_eof()
        )

    def finish_cycle(self) -> bool:
        """Ready for the next request; False when the server ends the connection."""
        if self.http.our_state is h11.DONE and self.http.their_state is h11.DONE:
            self.http.start_next_cycle()
            return True
        return False

    def close(self) -> None:
        self.writer.close()

    async def exchange(self, request: list[bytes], timeouts: _Timeouts) -> tuple[int, bytes]:
        async with asyncio.timeout(timeouts.write):
            self.writer.write(b"".join(request))
            await self.writer.drain()
        async with asyncio.timeout(timeouts.read):
            return await self._response()

    async def _response(self) -> tuple[int, bytes]:
        status, body = 0, []
        while True:
            event = self.http.next_event()
            if event is h11.NEED_DATA:
                self.http.receive_data(await self.reader.read(READ_SIZE))
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                body.append(event.data)
            elif isinstance(event, h11.EndOfMessage):
                return status, b"".join(body)
            elif isinstance(event, h11.ConnectionClosed):
                raise NetworkError("the server closed the connection without a response")


class KeepAliveRequest(BaseRequest):
    """PTB's request interface over a pool of kept-alive HTTP/1.1 connections."""

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
        self._slots = asyncio.Semaphore(connection_pool_size)
        self._idle: dict[tuple[str, str, int], list[_Connection]] = {}
        self._tls: ssl.SSLContext | None = None
        self._uploads = HTTPXRequest(
            connection_pool_size=connection_pool_size,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
            write_timeout=write_timeout,
            pool_timeout=pool_timeout,
            media_write_timeout=media_write_timeout,
        )

    @property
    def read_timeout(self) -> float | None:
        return self._defaults.read

    async def initialize(self) -> None:
        await self._uploads.initialize()

    async def shutdown(self) -> None:
        for connections in self._idle.values():
            for connection in connections:
                connection.close()
        self._idle.clear()
        await self._uploads.shutdown()

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
        if request_data is not None and request_data.contains_files:
            return await self._uploads.do_request(
                url,
                method,
                request_data,
                read_timeout=read_timeout,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
            )
        default = self._defaults
        timeouts = _Timeouts(
            connect=_given(connect_timeout, default.connect),
            read=_given(read_timeout, default.read),
            write=_given(write_timeout, default.write),
            pool=_given(pool_timeout, default.pool),
        )
        body = request_data.url_encoded_parameters().encode() if request_data else b""
        return await self._request(_target(url), method, body, timeouts)

    async def _request(
        self, target: _Target, method: str, body: bytes, timeouts: _Timeouts
    ) -> tuple[int, bytes]:
        await self._take_slot(timeouts.pool)
        connection: _Connection | None = None
        try:
            connection = self._reuse(target.origin) or await self._connect(target, timeouts)
            request = self._encode(connection, target, method, body)
            result = await connection.exchange(request, timeouts)
        except BaseException as error:
            if connection is not None:
                connection.close()  # its state is unknown: never reused
            converted = _as_telegram_error(error)
            if converted is error:
                raise
            raise converted from error
        finally:
            self._slots.release()
        if connection.finish_cycle():
            self._idle.setdefault(target.origin, []).append(connection)
        else:
            connection.close()
        return result

    async def _take_slot(self, pool_timeout: float | None) -> None:
        try:
            async with asyncio.timeout(pool_timeout):
                await self._slots.acquire()
        except TimeoutError:
            raise TimedOut(
                "Pool timeout: all connections are in use; the request was not sent"
            ) from None

    def _reuse(self, origin: tuple[str, str, int]) -> _Connection | None:
        idle = self._idle.get(origin)
        while idle:
            connection = idle.pop()
            if connection.reusable():
                return connection
            connection.close()
        return None

    async def _connect(self, target: _Target, timeouts: _Timeouts) -> _Connection:
        scheme, host, port = target.origin
        tls = self._tls_context() if scheme == "https" else None
        async with asyncio.timeout(timeouts.connect):
            reader, writer = await asyncio.open_connection(host, port, ssl=tls, limit=READ_SIZE)
        return _Connection(reader, writer)

    def _tls_context(self) -> ssl.SSLContext:
        if self._tls is None:
            self._tls = httpx.create_ssl_context()  # httpx's CA bundle and settings
        return self._tls

    def _encode(
        self, connection: _Connection, target: _Target, method: str, body: bytes
    ) -> list[bytes]:
        headers = [("Host", target.host_header), ("User-Agent", self.USER_AGENT)]
        if method != "GET":
            headers += [("Content-Type", FORM), ("Content-Length", str(len(body)))]
        http = connection.http
        request = [http.send(h11.Request(method=method, target=target.path, headers=headers))]
        if body:
            request.append(http.send(h11.Data(data=body)))
        request.append(http.send(h11.EndOfMessage()))
        return request


def _given(value: object, default: float | None) -> float | None:
    return default if value is BaseRequest.DEFAULT_NONE else value  # type: ignore[return-value]


def _as_telegram_error(error: BaseException) -> BaseException:
    """Timeouts and connection failures as PTB's errors; anything else as it is."""
    if isinstance(error, NetworkError):
        return error
    if isinstance(error, TimeoutError):
        return TimedOut()
    if isinstance(error, OSError | h11.ProtocolError | asyncio.IncompleteReadError):
        return NetworkError(f"{type(error).__name__}: {error}")
    return error
