#!/usr/bin/env python3
"""bench/py/asyncio_echo.py — the echo server of bench/echo_server.c in
asyncio, what a Python user would write instead:

    asyncio_echo.py [--uvloop] [--style protocol|streams] [--port N]

protocol: loop.create_server with an asyncio.Protocol whose data_received
  writes the bytes back; pause_writing / resume_writing pause and resume
  reading (asyncio's default high-water mark is 64 KiB, as interloop's).
streams: asyncio.start_server; each connection's handler loops
  reader.read(64 KiB) -> writer.write -> await writer.drain().

Listens on 127.0.0.1 (port 0: any free port), prints "port N" like the C
servers (bench/net_common.h), sets TCP_NODELAY on every connection (asyncio
does by default; said here so uvloop does too) and runs until SIGTERM.
--uvloop runs it on uvloop (Debian: python3-uvloop). bench/parts/net.py
drives it with bench_echo_client, which measures it from outside.
"""
import argparse
import asyncio
import resource
import signal
import socket
import sys

READ = 64 * 1024  # bytes asked of each read, as NET_READ_BUF
BACKLOG = 511     # as NET_BACKLOG


def nodelay(transport):
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)


class Echo(asyncio.Protocol):
    def connection_made(self, transport):
        self.transport = transport
        nodelay(transport)

    def data_received(self, data):
        self.transport.write(data)

    def pause_writing(self):
        self.transport.pause_reading()

    def resume_writing(self):
        self.transport.resume_reading()


async def echo_stream(reader, writer):
    nodelay(writer.transport)
    try:
        while True:
            data = await reader.read(READ)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except ConnectionError:
        pass  # a reset is the end of this client, no more
    writer.close()


async def serve(style, port):
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    if style == "streams":
        server = await asyncio.start_server(echo_stream, "127.0.0.1", port,
                                            backlog=BACKLOG)
    else:
        server = await loop.create_server(Echo, "127.0.0.1", port,
                                          backlog=BACKLOG)
    print("port", server.sockets[0].getsockname()[1], flush=True)
    await stop
    server.close()


def raise_nofile():
    """The soft open-files limit up to the hard one (10 000 idle
    connections need more than the usual 1 024), as net_raise_nofile."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--uvloop", action="store_true")
    ap.add_argument("--style", choices=["protocol", "streams"],
                    default="protocol")
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    raise_nofile()
    if a.uvloop:
        import uvloop
        uvloop.install()
    asyncio.run(serve(a.style, a.port))
    return 0


if __name__ == "__main__":
    sys.exit(main())
