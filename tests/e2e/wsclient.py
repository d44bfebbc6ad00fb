"""A minimal Streamlit client over the app's websocket: what a browser tab does, without the browser.

It sends Streamlit's own BackMsg protobufs (a rerun with no widget changes) and
reads ForwardMsgs until the run's ``script_finished``; twenty of them cost less
than one Chromium tab. The transport is whatever the installed Streamlit ships:
``websockets`` beside the Starlette server (newer releases), Tornado's client
beside the Tornado server (1.40).
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

FINISHED_EARLY_FOR_RERUN = "FINISHED_EARLY_FOR_RERUN"


async def _connect(url: str) -> Any:
    try:
        from websockets.asyncio.client import connect
    except ImportError:
        from tornado.websocket import websocket_connect

        conn = await websocket_connect(url, max_message_size=64 << 20)
        return _TornadoConn(conn)
    return _WebsocketsConn(await connect(url, max_size=64 << 20, open_timeout=30))


class _WebsocketsConn:
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def send(self, data: bytes) -> None:
        await self.conn.send(data)

    async def recv(self) -> bytes:
        data = await self.conn.recv()
        return data if isinstance(data, bytes) else data.encode()

    async def close(self) -> None:
        await self.conn.close()


class _TornadoConn:
    def __init__(self, conn: Any) -> None:
        self.conn = conn

    async def send(self, data: bytes) -> None:
        await self.conn.write_message(data, binary=True)

    async def recv(self) -> bytes:
        data = await self.conn.read_message()
        if data is None:
            raise ConnectionError("websocket closed by the server")
        return data if isinstance(data, bytes) else data.encode()

    async def close(self) -> None:
        self.conn.close()


class Client:
    """One session: ``await rerun()`` runs the script once and returns (seconds, frames of that run)."""

    def __init__(self, base_url: str) -> None:
        self.url = base_url.replace("http://", "ws://").rstrip("/") + "/_stcore/stream"
        self.conn: Any = None
        self.session_id = ""

    async def open(self) -> None:
        self.conn = await _connect(self.url)

    async def rerun(self, timeout: float = 120.0) -> tuple[float, list[bytes]]:
        from streamlit.proto.BackMsg_pb2 import BackMsg
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        msg = BackMsg()
        msg.rerun_script.query_string = ""
        msg.rerun_script.widget_states.SetInParent()
        t0 = time.perf_counter()
        await self.conn.send(msg.SerializeToString())
        frames: list[bytes] = []
        while True:
            frame = await asyncio.wait_for(self.conn.recv(), timeout)
            frames.append(frame)
            fwd = ForwardMsg.FromString(frame)
            kind = fwd.WhichOneof("type")
            if kind == "new_session" and not self.session_id:
                self.session_id = fwd.new_session.initialize.session_id
            if kind == "script_finished":
                status = ForwardMsg.ScriptFinishedStatus.Name(fwd.script_finished)
                if status != FINISHED_EARLY_FOR_RERUN:
                    return time.perf_counter() - t0, frames

    async def close(self) -> None:
        if self.conn is not None:
            await self.conn.close()
