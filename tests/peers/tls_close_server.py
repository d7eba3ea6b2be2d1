#!/usr/bin/python3
"""A TLS server for the tests of how TLS connections end (close_notify).

Usage: tls_close_server.py MODE CERT KEY

Listens on 127.0.0.1 with an ephemeral port, prints "PORT <n>", serves one
connection, prints one "RESULT ..." line, and exits. MODE:

  body-truncated  answers a request with a body read until close, then ends
                  TCP without close_notify (a truncation attack looks like
                  this); prints "RESULT sent".
  body-closed     the same body, then a proper TLS close (close_notify);
                  prints "RESULT sent".
  keep-alive      answers a request with Content-Length, keeps the
                  connection, and prints how the client ended it: "RESULT
                  close_notify" or "RESULT truncated".
  websocket       upgrades, reads client frames until a close frame, answers
                  it and ends TCP (FIN) as RFC 6455 has the server do; prints
                  how the client ended TLS, as above.

How the client ended TLS is read below TLS: once the client has nothing more
to send, any record it still sends is its close_notify alert (encrypted in
TLS 1.3, so it is not parsed), and a bare EOF means it closed TCP without one.
(Python's own recv() was seen to report some bare EOFs as clean ones.)
"""

import base64
import hashlib
import os
import socket
import ssl
import struct
import sys

BODY = b"all of this body, " * 50


def read_head(conn):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(4096)
        if not chunk:
            raise EOFError("the client closed before a whole request head")
        data += chunk
    return data.decode("latin-1")


def header(head, name):
    for line in head.split("\r\n")[1:]:
        key, _, value = line.partition(":")
        if key.strip().lower() == name:
            return value.strip()
    return ""


def read_exactly(conn, n):
    data = b""
    while len(data) < n:
        chunk = conn.recv(n - len(data))
        if not chunk:
            raise EOFError("the client closed inside a frame")
        data += chunk
    return data


def read_frame(conn):
    b0, b1 = read_exactly(conn, 2)
    length = b1 & 0x7F
    if length == 126:
        (length,) = struct.unpack("!H", read_exactly(conn, 2))
    elif length == 127:
        (length,) = struct.unpack("!Q", read_exactly(conn, 8))
    key = read_exactly(conn, 4) if b1 & 0x80 else b"\0\0\0\0"
    payload = bytes(b ^ key[i % 4] for i, b in enumerate(read_exactly(conn, length)))
    return b0 & 0x0F, payload


def client_ending(conn):
    """How the client ended TLS: "close_notify" when it sent one more record
    before closing TCP, "truncated" when it just closed TCP."""
    below_tls = socket.socket(fileno=os.dup(conn.fileno()))
    below_tls.settimeout(10)
    received = 0
    try:
        while True:
            chunk = below_tls.recv(4096)
            if not chunk:
                break
            received += len(chunk)
    except ConnectionError:
        pass
    finally:
        below_tls.close()
    return "close_notify" if received > 0 else "truncated"


def send_close_notify(conn):
    """Ends TLS properly; whether the client answers does not matter here."""
    try:
        conn.unwrap()
    except (ssl.SSLError, ConnectionError, OSError):
        pass


def serve(mode, conn):
    if mode in ("body-truncated", "body-closed"):
        read_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + BODY)
        if mode == "body-truncated":
            conn.shutdown(socket.SHUT_RDWR)  # TCP FIN, no close_notify
        else:
            send_close_notify(conn)
        return "sent"
    if mode == "keep-alive":
        read_head(conn)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        return client_ending(conn)
    if mode == "websocket":
        head = read_head(conn)
        accept = base64.b64encode(
            hashlib.sha1((header(head, "sec-websocket-key") + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").encode()).digest()
        ).decode()
        conn.sendall(
            (
                "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                f"Sec-WebSocket-Accept: {accept}\r\n\r\n"
            ).encode()
        )
        while True:
            opcode, payload = read_frame(conn)
            if opcode == 8:
                conn.sendall(bytes([0x88, len(payload[:2])]) + payload[:2])
                break
        socket.socket(fileno=os.dup(conn.fileno())).shutdown(socket.SHUT_WR)
        return client_ending(conn)
    raise SystemExit(f"unknown mode {mode}")


def main():
    mode, cert, key = sys.argv[1:4]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    listener = socket.create_server(("127.0.0.1", 0))
    print(f"PORT {listener.getsockname()[1]}", flush=True)
    raw, _ = listener.accept()
    raw.settimeout(10)
    conn = context.wrap_socket(raw, server_side=True, suppress_ragged_eofs=False)
    result = serve(mode, conn)
    print(f"RESULT {result}", flush=True)
    conn.close()


if __name__ == "__main__":
    main()
