#!/usr/bin/env python3
"""bench/py/asyncio_udp.py — the UDP echo server of the UDP ping-pong
benchmark (bench/parts/udp.py) in asyncio, or uvloop with --uvloop.

    asyncio_udp.py [--uvloop] [--port N]

loop.create_datagram_endpoint on 127.0.0.1 with a DatagramProtocol whose
datagram_received sends every datagram back to its sender with
transport.sendto — what bench/udp_server.c does with interloop. Prints
"port N" once bound, serves until SIGTERM, then closes the endpoint and
exits with status 0. Driven by bench/udp_client.c (the figures are the
client's).
"""
import argparse
import asyncio
import signal


class Echo(asyncio.DatagramProtocol):
    def connection_made(self, transport):
        self.transport = transport

    def datagram_received(self, data, addr):
        self.transport.sendto(data, addr)


async def serve(port):
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
    transport, _ = await loop.create_datagram_endpoint(
        Echo, local_addr=("127.0.0.1", port))
    print("port", transport.get_extra_info("sockname")[1], flush=True)
    await stop
    transport.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--uvloop", action="store_true")
    ap.add_argument("--port", type=int, default=0)
    a = ap.parse_args()
    if a.uvloop:
        import uvloop
        uvloop.install()
    asyncio.run(serve(a.port))


if __name__ == "__main__":
    main()
