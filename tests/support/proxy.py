"""What the test proxies in front of Tansu share: a byte pipe and a server in a thread."""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import threading
from collections.abc import Awaitable, Callable

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Copy ``reader`` to ``writer`` until either side closes, then close ``writer``."""
    with contextlib.suppress(OSError, ConnectionError, asyncio.IncompleteReadError):
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    with contextlib.suppress(Exception):
        writer.close()


class ServerThread:
    """An asyncio server on 127.0.0.1:``port`` with its own event loop, in a daemon thread."""

    def __init__(self, handler: Handler, port: int, name: str,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self._handler, self._port, self._name, self._ssl = handler, port, name, ssl_context
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Listen; return once the server accepts connections.

        Raises:
            RuntimeError: Not listening within 10 s.
        """
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            server = loop.run_until_complete(
                asyncio.start_server(self._handler, "127.0.0.1", self._port, ssl=self._ssl))
            ready.set()
            try:
                loop.run_forever()
            finally:
                server.close()
                loop.close()

        self._thread = threading.Thread(target=run, daemon=True, name=self._name)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError(f"{self._name} did not start listening on port {self._port}")

    def stop(self) -> None:
        """Stop listening and end the thread (open connections die with the loop)."""
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(5)
