"""A websocket client written by hand, for peers no library would be: one that never reads,
one that hangs up at the worst moment."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import struct
from typing import Any


def masked(payload: bytes) -> bytes:
    """A client's text frame (clients must mask what they send)."""
    mask = os.urandom(4)
    if len(payload) < 126:
        header = bytes([0x81, 0x80 | len(payload)])
    else:
        header = bytes([0x81, 0x80 | 126]) + struct.pack("!H", len(payload))
    return header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


async def read_frame(reader: asyncio.StreamReader) -> dict[str, Any]:
    """The next text frame from the server (unmasked), as JSON."""
    first, second = await reader.readexactly(2)
    length = second & 0x7F
    if length == 126:
        length = struct.unpack("!H", await reader.readexactly(2))[0]
    elif length == 127:
        length = struct.unpack("!Q", await reader.readexactly(8))[0]
    return json.loads(await reader.readexactly(length))


async def connect(
    url: str,
    path: str,
    origin: str,
    *,
    receive_buffer: int | None = None,
    source: str = "127.0.0.1",
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Open `path` of `url` (http://host:port) as a websocket from `source`."""
    host, port = url.removeprefix("http://").split(":")
    sock = socket.socket()
    if receive_buffer is not None:  # before connecting: it sets the window the server sees
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.bind((source, 0))
    sock.setblocking(False)
    await asyncio.get_running_loop().sock_connect(sock, (host, int(port)))
    reader, writer = await asyncio.open_connection(sock=sock)
    writer.write(
        f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        f"Sec-WebSocket-Version: 13\r\nOrigin: {origin}\r\n\r\n".encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    assert b" 101 " in head.split(b"\r\n")[0], head
    return reader, writer


def send(writer: asyncio.StreamWriter, frame: dict[str, Any]) -> None:
    writer.write(masked(json.dumps(frame).encode()))
