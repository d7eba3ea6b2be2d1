#!/usr/bin/python3
"""Test peer for wscoro: a WebSocket server built on Python `websockets` (10.x).

Usage:
    /usr/bin/python3 tests/peers/py_server.py [--tls CERTFILE KEYFILE]
        [--unix SOCKETPATH | --port N] [--no-compression] [--verbose]
        [--deflate-server-no-context-takeover] [--deflate-client-no-context-takeover]
        [--deflate-server-max-window-bits N] [--deflate-client-max-window-bits N]

Listens on 127.0.0.1 with an ephemeral port (or port N with --port, so that a
restarted server comes back where it was; or on SOCKETPATH with --unix),
then prints exactly one line "PORT <n>" ("PORT 0" for --unix) to stdout and
flushes it. Everything else goes to stderr. The server stops on SIGTERM,
SIGINT, or when its stdin reaches EOF (the test harness closes stdin to stop
it, so an orphaned server never lingers).

Server settings: permessage-deflate as websockets' default (off with
--no-compression; any --deflate-* flag replaces the default parameters,
server_max_window_bits=12 and client_max_window_bits=12, with exactly the
ones given), no message size limit, no keepalive pings, subprotocols
"chat" and "superchat" (the first one the client offers that the server
supports is selected; none offered -> none selected).

Routes (request path; query parameters parsed with urllib.parse):
  /, /echo         Echo every message back with the same type (text/binary)
                   until the client closes. Baseline for send/receive tests.
  /refuse          Refuse the upgrade: HTTP 403, header "X-Refusal: testing",
                   body "go away: refused by test server\\n". Tests handshake
                   failure reporting.
  /ping            Send a ping with payload b"hello-ping" right after the
                   upgrade (without waiting for the pong), then echo. Tests
                   that the client answers pings automatically.
  /close?code=4001&reason=bye%20now
                   Close right away with that code (default 1000) and reason
                   (default ""). Tests server-initiated close handling.
  /fragmented?parts=3&size=10&type=text|binary
                   Send ONE message as exactly `parts` frames of `size` bytes
                   each (first text/binary, then continuations, FIN on the
                   last; each frame compressed separately if deflate is on),
                   then echo. Payload is the same pattern as /send with
                   size=parts*size. Tests reassembly of fragmented messages.
  /send?size=N&type=binary|text&count=K
                   Send K (default 1) messages of N (default 16) bytes each,
                   then echo. binary: byte i is i % 251; text: 'a'..'z'
                   cycling. Tests server-initiated and large messages.
  /headers         Send one text message holding a JSON object of the request
                   headers (lower-cased name -> value; repeated headers joined
                   with ", "), then echo. Tests what the client sends.
  /drop-mid-frame  Write a frame header announcing a 100-byte binary payload
                   plus only 10 payload bytes, then abort the TCP connection.
                   Tests handling of a peer vanishing mid-frame.
Any other path is refused with HTTP 404.
"""

import argparse
import asyncio
import http
import json
import logging
import os
import signal
import ssl
import string
import sys
import threading
import urllib.parse

import websockets.exceptions
import websockets.server
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
from websockets.frames import OP_BINARY, OP_CONT, OP_TEXT

log = logging.getLogger("py_server")

SUBPROTOCOLS = ["chat", "superchat"]
ROUTES = {"/", "/echo", "/refuse", "/ping", "/close", "/fragmented", "/send",
          "/headers", "/drop-mid-frame"}


def pattern_binary(size):
    """Deterministic binary payload: byte i is i % 251."""
    return (bytes(range(251)) * (size // 251 + 1))[:size]


def pattern_text(size):
    """Deterministic text payload: 'a'..'z' cycling."""
    return (string.ascii_lowercase * (size // 26 + 1))[:size]


def payload(size, kind):
    return pattern_binary(size) if kind == "binary" else pattern_text(size)


def split_path(path):
    """Returns (route, {name: last value}) for a request path."""
    parts = urllib.parse.urlsplit(path)
    query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
    return parts.path, query


def int_param(query, name, default):
    value = query.get(name)
    return default if value in (None, "") else int(value)


async def process_request(path, request_headers):
    """HTTP-level decisions, before the WebSocket handshake is answered."""
    route, _ = split_path(path)
    if route == "/refuse":
        return (http.HTTPStatus.FORBIDDEN,
                [("X-Refusal", "testing"), ("Content-Type", "text/plain")],
                b"go away: refused by test server\n")
    if route not in ROUTES:
        return (http.HTTPStatus.NOT_FOUND, [("Content-Type", "text/plain")],
                b"no such route\n")
    return None


def select_subprotocol(client_subprotocols, server_subprotocols):
    """Deterministic choice: the first one the client offers that we support.

    (websockets' default ranks by summed list positions and breaks ties in
    set order, which is not deterministic.)
    """
    for proto in client_subprotocols:
        if proto in server_subprotocols:
            return proto
    return None


async def echo(ws):
    async for message in ws:
        await ws.send(message)


async def handler(ws):
    route, query = split_path(ws.path)
    log.info("connection %s subprotocol=%s", ws.path, ws.subprotocol)
    try:
        if route == "/ping":
            pong = await ws.ping(b"hello-ping")  # sent; pong is not awaited
            # If the connection closes first the waiter gets an exception;
            # retrieve it so asyncio does not log "never retrieved".
            pong.add_done_callback(lambda f: f.cancelled() or f.exception())
        elif route == "/close":
            await ws.close(int_param(query, "code", 1000),
                           query.get("reason", ""))
            return
        elif route == "/fragmented":
            parts = int_param(query, "parts", 3)
            size = int_param(query, "size", 10)
            kind = query.get("type", "text")
            data = payload(parts * size, kind)
            if kind != "binary":
                data = data.encode()
            # Not ws.send(iterable): websockets 10.x then ends the message with
            # an extra empty FIN continuation frame. Write exactly `parts`
            # frames instead, the last one with FIN set.
            for i in range(parts):
                await ws.write_frame(
                    i == parts - 1,
                    (OP_BINARY if kind == "binary" else OP_TEXT) if i == 0
                    else OP_CONT,
                    data[i * size:(i + 1) * size])
        elif route == "/send":
            data = payload(int_param(query, "size", 16),
                           query.get("type", "binary"))
            for _ in range(int_param(query, "count", 1)):
                await ws.send(data)
        elif route == "/headers":
            headers = {}
            for name, value in ws.request_headers.raw_items():
                name = name.lower()
                headers[name] = (headers[name] + ", " + value
                                 if name in headers else value)
            await ws.send(json.dumps(headers))
        elif route == "/drop-mid-frame":
            # FIN + binary opcode, unmasked, 7-bit length 100; then 10 bytes.
            ws.transport.write(bytes([0x82, 100]) + pattern_binary(10))
            ws.transport.abort()
            # Let websockets notice, so that it does not try (and log a
            # failed) closing handshake when the handler returns.
            await ws.wait_closed()
            return
        await echo(ws)
    except websockets.exceptions.ConnectionClosed:
        pass
    log.info("done %s", ws.path)


def watch_stdin(loop, stop):
    """Resolves `stop` when stdin reaches EOF (or fails)."""

    def on_eof():
        if not stop.done():
            log.info("stdin closed, stopping")
            stop.set_result(None)

    def on_readable():
        try:
            data = os.read(0, 4096)
        except OSError:
            data = b""
        if not data:
            loop.remove_reader(0)
            on_eof()

    try:
        loop.add_reader(0, on_readable)
    except (OSError, ValueError):
        # stdin is a regular file (epoll refuses it): read it in a thread.
        def reader():
            try:
                while os.read(0, 4096):
                    pass
            except OSError:
                pass
            loop.call_soon_threadsafe(on_eof)

        threading.Thread(target=reader, daemon=True).start()


async def main(args):
    loop = asyncio.get_running_loop()
    stop = loop.create_future()

    def on_signal(signum):
        log.info("signal %d, stopping", signum)
        if not stop.done():
            stop.set_result(None)

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    watch_stdin(loop, stop)

    options = dict(
        process_request=process_request,
        subprotocols=SUBPROTOCOLS,
        select_subprotocol=select_subprotocol,
        compression=None if args.no_compression else "deflate",
        max_size=None,
        max_queue=None,
        ping_interval=None,
        ping_timeout=None,
        close_timeout=30,
    )
    deflate_flags = (args.deflate_server_no_context_takeover,
                     args.deflate_client_no_context_takeover,
                     args.deflate_server_max_window_bits,
                     args.deflate_client_max_window_bits)
    if not args.no_compression and any(deflate_flags):
        options["compression"] = None
        options["extensions"] = [ServerPerMessageDeflateFactory(
            server_no_context_takeover=args.deflate_server_no_context_takeover,
            client_no_context_takeover=args.deflate_client_no_context_takeover,
            server_max_window_bits=args.deflate_server_max_window_bits,
            client_max_window_bits=args.deflate_client_max_window_bits)]
    if args.tls:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls[0], args.tls[1])
        options["ssl"] = context

    if args.unix:
        if os.path.exists(args.unix):
            os.unlink(args.unix)
        server = await websockets.server.unix_serve(handler, args.unix,
                                                    **options)
        port = 0
    else:
        server = await websockets.server.serve(handler, "127.0.0.1",
                                               args.port, **options)
        port = server.sockets[0].getsockname()[1]

    sys.stdout.write(f"PORT {port}\n")
    sys.stdout.flush()

    await stop
    server.close()
    try:
        # Closing handshakes with unresponsive clients could take
        # close_timeout each; the harness will not wait that long.
        await asyncio.wait_for(server.wait_closed(), 1.0)
    except asyncio.TimeoutError:
        log.info("some connections did not close in time, aborting them")
        for ws in list(server.websockets):
            if ws.transport is not None:
                ws.transport.abort()
    if args.unix:
        try:
            os.unlink(args.unix)
        except OSError:
            pass


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tls", nargs=2, metavar=("CERTFILE", "KEYFILE"))
    parser.add_argument("--unix", metavar="SOCKETPATH")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--no-compression", action="store_true")
    parser.add_argument("--deflate-server-no-context-takeover",
                        action="store_true")
    parser.add_argument("--deflate-client-no-context-takeover",
                        action="store_true")
    parser.add_argument("--deflate-server-max-window-bits", type=int)
    parser.add_argument("--deflate-client-max-window-bits", type=int)
    parser.add_argument("--verbose", "-v", action="store_true")
    return parser.parse_args()


if __name__ == "__main__":
    arguments = parse_args()
    logging.basicConfig(
        stream=sys.stderr,
        level=logging.INFO if arguments.verbose else logging.WARNING,
        format="py_server: %(levelname)s %(name)s: %(message)s")
    asyncio.run(main(arguments))
