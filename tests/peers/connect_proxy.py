#!/usr/bin/python3
"""Test peer for wscoro: an HTTP CONNECT proxy (RFC 9110 9.3.6) on asyncio.

Usage:
    /usr/bin/python3 tests/peers/connect_proxy.py [--auth USER:PASSWORD]
        [--refuse STATUS | --close | --garbage | --hang]
        [--coalesce] [--dribble] [--verbose]

Listens on 127.0.0.1 with an ephemeral port, prints one line "PORT <n>" to
stdout, then for every request head it reads prints
    REQUEST <request line>
    HEADER <name>: <value>      (one per header, as received)
    END
so that a test can check what the client sent. Everything else goes to
stderr. Stops on SIGTERM, SIGINT, or when stdin reaches EOF.

Behaviour for each CONNECT host:port:
  default      Connect to host:port; answer "200 Connection established" and
               relay bytes both ways until either side closes. If the
               target cannot be reached, answer 502 and close.
  --auth U:P   Require "Proxy-Authorization: Basic base64(U:P)"; without it
               (or with other credentials) answer 407 with
               Proxy-Authenticate and a small body, and close.
  --refuse S   Answer every CONNECT with status S (and a small body), close.
  --close      Close the connection as soon as the request head is read.
  --garbage    Answer with bytes that are not HTTP, then close.
  --hang       Read the request head and never answer.
  --coalesce   Hold the 200 back until the target's first bytes arrive (at
               most 0.5 s), and send them in the same write as the head:
               the client must not lose them.
  --dribble    Send the 200 head one byte at a time, 2 ms apart.
Any other method is answered with 405.
"""

import argparse
import asyncio
import base64
import logging
import os
import signal
import sys

# -I leaves the script's folder off sys.path; py_server is beside this file.
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from py_server import watch_stdin  # noqa: E402 (stdin EOF stops every test peer)

log = logging.getLogger("connect_proxy")


def report(lines):
    sys.stdout.write("".join(line + "\n" for line in lines))
    sys.stdout.flush()


async def relay(reader, writer):
    try:
        while True:
            data = await reader.read(65536)
            if not data:
                break
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        try:
            writer.close()
        except (ConnectionError, OSError):
            pass


def answer(status, reason, headers=(), body=b""):
    head = f"HTTP/1.1 {status} {reason}\r\n"
    for name, value in headers:
        head += f"{name}: {value}\r\n"
    head += f"Content-Length: {len(body)}\r\n\r\n"
    return head.encode() + body


async def handle(args, reader, writer):
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
        writer.close()
        return
    lines = head.decode("latin-1").split("\r\n")[:-2]
    request_line, header_lines = lines[0], lines[1:]
    report(["REQUEST " + request_line] + ["HEADER " + h for h in header_lines] + ["END"])
    headers = {}
    for h in header_lines:
        name, _, value = h.partition(":")
        headers[name.strip().lower()] = value.strip()

    if args.hang:
        await reader.read()  # until the client gives up
        writer.close()
        return
    if args.close:
        writer.close()
        return
    if args.garbage:
        writer.write(b"\x16\x03\x01 this is no HTTP at all\r\n\r\n")
        await writer.drain()
        writer.close()
        return

    parts = request_line.split(" ")
    if len(parts) != 3 or parts[0] != "CONNECT":
        writer.write(answer(405, "Method Not Allowed", [("Allow", "CONNECT")]))
        writer.close()
        return
    if args.refuse:
        writer.write(answer(args.refuse, "Refused by test proxy", body=b"no tunnel for you\n"))
        await writer.drain()
        writer.close()
        return
    if args.auth:
        expected = "Basic " + base64.b64encode(args.auth.encode()).decode()
        if headers.get("proxy-authorization") != expected:
            writer.write(answer(407, "Proxy Authentication Required",
                                [("Proxy-Authenticate", 'Basic realm="wscoro-test"')],
                                b"credentials, please\n"))
            await writer.drain()
            writer.close()
            return

    host, _, port = parts[1].rpartition(":")
    host = host.strip("[]")
    try:
        target_reader, target_writer = await asyncio.open_connection(host, int(port))
    except (OSError, ValueError) as e:
        log.info("cannot reach %s: %s", parts[1], e)
        writer.write(answer(502, "Bad Gateway", body=b"target unreachable\n"))
        await writer.drain()
        writer.close()
        return

    established = b"HTTP/1.1 200 Connection established\r\n\r\n"
    if args.coalesce:
        try:
            first = await asyncio.wait_for(target_reader.read(65536), 0.5)
        except asyncio.TimeoutError:
            first = b""
        writer.write(established + first)
    elif args.dribble:
        for i in range(len(established)):
            writer.write(established[i:i + 1])
            await writer.drain()
            await asyncio.sleep(0.002)
    else:
        writer.write(established)
    await writer.drain()
    await asyncio.gather(relay(reader, target_writer), relay(target_reader, writer))


async def main(args):
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, lambda: stop.done() or stop.set_result(None))
    watch_stdin(loop, stop)

    async def on_client(reader, writer):
        try:
            await handle(args, reader, writer)
        except (ConnectionError, OSError) as e:
            log.info("connection ended: %s", e)

    server = await asyncio.start_server(on_client, "127.0.0.1", 0)
    report([f"PORT {server.sockets[0].getsockname()[1]}"])
    await stop
    server.close()


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--auth", metavar="USER:PASSWORD")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--refuse", type=int, metavar="STATUS")
    mode.add_argument("--close", action="store_true")
    mode.add_argument("--garbage", action="store_true")
    mode.add_argument("--hang", action="store_true")
    parser.add_argument("--coalesce", action="store_true")
    parser.add_argument("--dribble", action="store_true")
    parser.add_argument("--verbose", "-v", action="store_true")
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse_args()
    logging.basicConfig(stream=sys.stderr, level=logging.INFO if arguments.verbose else logging.WARNING,
                        format="connect_proxy: %(levelname)s %(message)s")
    asyncio.run(main(arguments))
