#!/usr/bin/env python3
"""Writes the seed corpora under fuzz/corpus/<target>/ (committed; rerun
after changing this file). Input layouts are described in each target's
source: the decoder, response parser and utf8 targets take leading
parameter bytes (chunking, limits) before the data."""

import os
import shutil
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "corpus")

KEY = b"dGhlIHNhbXBsZSBub25jZQ=="
ACCEPT = b"s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

# Chunking seeds (see fuzz::chunker): whole, fixed 3/13 bytes, single bytes, random up to 8/64.
WHOLE, FIXED3, FIXED13, BYTES, RAND8, RAND64 = 0x00, 0x42, 0x4C, 0x80, 0xC7, 0xFF
BIG = 0x80  # decoder limit selector: 1 MiB


def frame(first, payload=b"", mask=None, length=None):
    """One frame; `first` is byte 0 (FIN, RSV, opcode). `length` overrides
    the declared length (the payload may then be shorter: a truncated stream)."""
    n = len(payload) if length is None else length
    out = bytearray([first])
    mbit = 0x80 if mask is not None else 0
    if n < 126:
        out.append(mbit | n)
    elif n <= 0xFFFF:
        out.append(mbit | 126)
        out += struct.pack(">H", n)
    else:
        out.append(mbit | 127)
        out += struct.pack(">Q", n)
    if mask is not None:
        out += mask
        payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes(out) + payload


def close_payload(code, reason=b""):
    return struct.pack(">H", code) + reason


def decoder_streams():
    """(name, [(first_byte, payload, length_override)], chunk, limit) for both roles."""
    s = []
    s.append(("text-7bit", [(0x81, b"Hello", None)], WHOLE, BIG))
    s.append(("text-empty", [(0x81, b"", None)], FIXED3, BIG))
    s.append(("text-multibyte", [(0x81, "h\u00e9llo \u20ac \U0001F600".encode(), None)], BYTES, BIG))
    s.append(("binary-16bit", [(0x82, bytes(range(256)) * 2, None)], RAND64, BIG))
    s.append(("binary-126", [(0x82, b"x" * 126, None)], FIXED13, BIG))
    s.append(("binary-64bit-truncated", [(0x82, b"y" * 200, 70000)], RAND64, BIG))
    s.append(("binary-64bit-too-big", [(0x82, b"z" * 16, 70000)], WHOLE, 0x40))
    s.append(("text-too-big", [(0x81, b"a" * 100, None)], FIXED13, 0x10))
    s.append(("ping", [(0x89, b"are you there", None)], WHOLE, BIG))
    s.append(("ping-empty-pong", [(0x89, b"", None), (0x8A, b"pong!", None)], BYTES, BIG))
    s.append(("ping-125", [(0x89, b"p" * 125, None)], RAND8, BIG))
    s.append(("close-empty", [(0x88, b"", None)], WHOLE, BIG))
    s.append(("close-1000-reason", [(0x88, close_payload(1000, b"bye"), None)], FIXED3, BIG))
    s.append(("close-1001-utf8", [(0x88, close_payload(1001, "\u00e0 plus".encode()), None)], BYTES, BIG))
    s.append(("close-4000", [(0x88, close_payload(4000), None)], WHOLE, BIG))
    s.append(("close-1014", [(0x88, close_payload(1014, b"x"), None)], WHOLE, BIG))
    s.append(("close-1005-invalid", [(0x88, close_payload(1005), None)], WHOLE, BIG))
    s.append(("close-1015-invalid", [(0x88, close_payload(1015), None)], WHOLE, BIG))
    s.append(("close-999-invalid", [(0x88, close_payload(999), None)], WHOLE, BIG))
    s.append(("close-1-byte", [(0x88, b"\x03", None)], WHOLE, BIG))
    s.append(("close-bad-utf8", [(0x88, close_payload(1000, b"\xc3\x28"), None)], WHOLE, BIG))
    s.append(("close-then-more", [(0x88, close_payload(1000), None), (0x81, b"after", None)], RAND8, BIG))
    s.append(("fragmented-text",
              [(0x01, b"Hel", None), (0x89, b"mid", None), (0x00, b"", None), (0x8A, b"p", None),
               (0x80, b"lo", None)], RAND8, BIG))
    s.append(("fragmented-utf8-split",
              [(0x01, b"\xe2", None), (0x00, b"\x82", None), (0x80, b"\xac", None)], BYTES, BIG))
    s.append(("fragmented-binary", [(0x02, b"\x00\x01", None), (0x00, b"\xff" * 130, None),
                                    (0x80, b"\x80", None)], FIXED13, BIG))
    s.append(("fragmented-too-big", [(0x01, b"a" * 30, None), (0x80, b"b" * 30, None)], WHOLE, 0x0E))
    s.append(("many-messages",
              [(0x81, b"one", None), (0x82, b"\x00two", None), (0x89, b"", None), (0x81, b"three", None),
               (0x88, close_payload(1000, b"done"), None)], RAND64, BIG))
    s.append(("invalid-utf8-overlong", [(0x81, b"\xc0\x80", None)], WHOLE, BIG))
    s.append(("invalid-utf8-surrogate", [(0x81, b"ok\xed\xa0\x80", None)], BYTES, BIG))
    s.append(("invalid-utf8-truncated", [(0x81, b"ok\xe2\x82", None)], WHOLE, BIG))
    s.append(("invalid-utf8-above-max", [(0x81, b"\xf4\x90\x80\x80", None)], FIXED3, BIG))
    s.append(("invalid-utf8-in-fragment", [(0x01, b"fine", None), (0x80, b"\xff", None)], WHOLE, BIG))
    s.append(("reserved-opcode-3", [(0x83, b"", None)], WHOLE, BIG))
    s.append(("reserved-opcode-b", [(0x8B, b"", None)], WHOLE, BIG))
    s.append(("rsv1-set", [(0xC1, b"deflated?", None)], WHOLE, BIG))
    s.append(("control-fragmented", [(0x09, b"", None)], WHOLE, BIG))
    s.append(("continuation-unexpected", [(0x80, b"orphan", None)], WHOLE, BIG))
    s.append(("text-during-fragment", [(0x01, b"a", None), (0x81, b"b", None)], WHOLE, BIG))
    s.append(("partial-header", [(0x81, b"complete", None)], WHOLE, BIG))
    return s


def raw_error_streams():
    """Streams whose header cannot be built by frame()."""
    return [
        ("nonminimal-16bit", b"\x82\x7e\x00\x05hello"),
        ("nonminimal-64bit", b"\x82\x7f" + struct.pack(">Q", 300) + b"x" * 8),
        ("length-top-bit", b"\x82\x7f\x80" + b"\x00" * 7),
        ("control-too-large", b"\x89\x7e\x00\x7e" + b"p" * 126),
    ]


def write(target, name, data):
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    assert len(data) < 4096, (target, name, len(data))
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def decoder_corpus():
    mask = b"\x37\xfa\x21\x3d"
    for name, frames, chunk, limit in decoder_streams():
        plain = b"".join(frame(f, p, None, n) for f, p, n in frames)
        masked = b"".join(frame(f, p, mask, n) for f, p, n in frames)
        if name == "partial-header":
            plain, masked = plain + b"\x81\x7e\x01", masked + b"\x81\xfe\x01\x00"
        write("fuzz_decoder_client", name, bytes([chunk, limit]) + plain)
        write("fuzz_decoder_server", name, bytes([chunk, limit]) + masked)
    for name, data in raw_error_streams():
        write("fuzz_decoder_client", name, bytes([WHOLE, BIG]) + data)
        m = bytearray(data)
        m[1] |= 0x80
        ext = {126: 2, 127: 8}.get(m[1] & 0x7F, 0)
        m[2 + ext:2 + ext] = b"\x00\x00\x00\x00"  # an all-zero key leaves the payload as is
        write("fuzz_decoder_server", name, bytes([WHOLE, BIG]) + bytes(m))
    # The wrong masking for each role.
    write("fuzz_decoder_client", "masked-from-server", bytes([WHOLE, BIG]) + frame(0x81, b"hi", mask))
    write("fuzz_decoder_server", "unmasked-from-client", bytes([WHOLE, BIG]) + frame(0x81, b"hi"))


def deflated(data, wbits=15, compressor=None):
    """permessage-deflate payload: raw DEFLATE, sync flush, tail stripped."""
    c = compressor or zlib.compressobj(6, zlib.DEFLATED, -wbits)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


def deflate_corpus():
    """fuzz_decoder_deflate: [chunking, limit, inflater setting] + frames."""
    text = b'{"symbol":"EURUSD","bid":1.0375,"ask":1.0377,"size":1000000}' * 20
    keep = zlib.compressobj(6, zlib.DEFLATED, -15)
    two = deflated(text, compressor=keep)
    two_more = deflated(text, compressor=keep)
    c = deflated(text)
    final = zlib.compressobj(6, zlib.DEFLATED, -15)
    final_block = final.compress(b"ends with BFINAL") + final.flush(zlib.Z_FINISH)
    seeds = [
        ("text", WHOLE, BIG, 7, frame(0xC1, c)),
        ("binary-split", RAND8, BIG, 7, frame(0xC2, c)),
        ("empty", WHOLE, BIG, 7, frame(0xC1, b"\x00")),
        ("context-takeover", FIXED13, BIG, 7, frame(0xC1, two) + frame(0xC1, two_more)),
        ("no-context-takeover", WHOLE, BIG, 15, frame(0xC1, c) + frame(0xC1, c)),
        ("fragmented", FIXED3, BIG, 7, frame(0x41, c[:10]) + frame(0x00, c[10:20]) + frame(0x80, c[20:])),
        ("ping-inside", WHOLE, BIG, 7, frame(0x41, c[:10]) + frame(0x89, b"p") + frame(0x80, c[10:])),
        ("plain-among", WHOLE, BIG, 7, frame(0x81, b"plain") + frame(0xC1, c)),
        ("window-9", WHOLE, BIG, 1, frame(0xC2, deflated(text * 3, 9))),
        ("final-block", WHOLE, BIG, 7, frame(0xC1, final_block) + frame(0xC1, c)),
        ("bomb", WHOLE, 0x40, 7, frame(0xC2, deflated(b"\x00" * 100000))),
        ("bomb-fragments", BYTES, 0x7F, 7, frame(0x42, deflated(b"a" * 2000)[:3]) + frame(0x80, deflated(b"a" * 2000)[3:])),
        ("invalid-utf8", WHOLE, BIG, 7, frame(0xC1, deflated(b"abc\xed\xa0\x80def"))),
        ("garbage", WHOLE, BIG, 7, frame(0xC2, b"\xff\xff\xff\xff")),
        ("rsv1-continuation", WHOLE, BIG, 7, frame(0x41, c[:5]) + frame(0xC0, c[5:])),
        ("rsv1-ping", WHOLE, BIG, 7, frame(0xC9, b"x")),
        ("rsv1-close", WHOLE, BIG, 7, frame(0xC8, b"\x03\xe8")),
        ("close-after", WHOLE, BIG, 7, frame(0xC1, c) + frame(0x88, b"\x03\xe8")),
    ]
    for name, chunk, limit, setting, data in seeds:
        write("fuzz_decoder_deflate", name, bytes([chunk, limit, setting]) + data)


def extensions_corpus():
    """fuzz_extensions: [offer] + the server's Sec-WebSocket-Extensions."""
    seeds = [
        ("bare", 0x00, b"permessage-deflate"),
        ("python-default", 0x00, b"permessage-deflate; server_max_window_bits=12; client_max_window_bits=12"),
        ("all", 0x00, b"permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
                      b"server_max_window_bits=10; client_max_window_bits=9"),
        ("quoted", 0x00, b'permessage-deflate; client_max_window_bits="10"'),
        ("limited-offer", 0x08 | 0x04 | (2 << 5), b"permessage-deflate; server_no_context_takeover; server_max_window_bits=10"),
        ("above-offer", 0x08 | (2 << 5), b"permessage-deflate; server_max_window_bits=11"),
        ("compat", 0x01, b"permessage-deflate; client_max_window_bits=10"),
        ("duplicate", 0x00, b"permessage-deflate, permessage-deflate"),
        ("duplicate-param", 0x00, b"permessage-deflate; server_no_context_takeover; server_no_context_takeover"),
        ("unknown", 0x00, b"x-webkit-deflate-frame; no_context_takeover"),
        ("bad-bits", 0x00, b"permessage-deflate; server_max_window_bits=016"),
        ("empty-elements", 0x02, b" , permessage-deflate ,, "),
        ("unterminated", 0x00, b'permessage-deflate; client_max_window_bits="1'),
    ]
    for name, offer, data in seeds:
        write("fuzz_extensions", name, bytes([offer]) + data)


def upgrade_101(protocol=b"chat", accept=ACCEPT, extra=b""):
    head = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    head += b"Sec-WebSocket-Accept: " + accept + b"\r\n"
    if protocol is not None:
        head += b"Sec-WebSocket-Protocol: " + protocol + b"\r\n"
    return head + extra + b"\r\n"


def chunked(parts, trailer=b""):
    out = b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts)
    return out + b"0\r\n" + trailer + b"\r\n"


def http_responses():
    """(name, bytes, head_request)"""
    r = []
    r.append(("101-valid", upgrade_101() + b"\x81\x02hi", False))
    r.append(("101-no-protocol", upgrade_101(protocol=None), False))
    r.append(("101-superchat-odd-case",
              b"HTTP/1.1 101 OK\r\nupgrade: WebSocket\r\nconnection: keep-alive, Upgrade\r\n"
              b"sec-websocket-accept:  " + ACCEPT + b" \r\nSEC-WEBSOCKET-PROTOCOL: superchat\r\n\r\n", False))
    r.append(("101-content-length", upgrade_101(extra=b"Content-Length: 4\r\n") + b"\x81\x02hi", False))
    r.append(("101-chunked-no-connection",
              b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nTransfer-Encoding: chunked\r\n\r\n"
              b"\x81\x02hi", False))
    r.append(("100-content-length-then-200",
              b"HTTP/1.1 100 Continue\r\nContent-Length: 3\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
              False))
    r.append(("101-wrong-accept", upgrade_101(accept=b"dGhlIHNhbXBsZSBub25jZQ=="), False))
    r.append(("101-two-accepts", upgrade_101(extra=b"Sec-WebSocket-Accept: " + ACCEPT + b"\r\n"), False))
    r.append(("101-no-upgrade", b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n"
              b"Sec-WebSocket-Accept: " + ACCEPT + b"\r\n\r\n", False))
    r.append(("101-unoffered-protocol", upgrade_101(protocol=b"mqtt"), False))
    r.append(("101-two-protocols", upgrade_101(protocol=b"chat, superchat"), False))
    r.append(("101-extension", upgrade_101(extra=b"Sec-WebSocket-Extensions: permessage-deflate\r\n"), False))
    r.append(("101-empty-extension", upgrade_101(extra=b"Sec-WebSocket-Extensions: ,\r\n"), False))
    r.append(("200-content-length",
              b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 12\r\n\r\nhello world!", False))
    r.append(("200-chunked",
              b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
              chunked([b"hello", b" ", b"chunked world" * 3]), False))
    r.append(("200-chunked-ext-trailer",
              b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-Sum\r\n\r\n"
              b"4;name=value\r\nwiki\r\n5\r\npedia\r\n0\r\nX-Sum: 42\r\n\r\n", False))
    r.append(("200-until-close", b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbody until the end", False))
    r.append(("200-http10-until-close", b"HTTP/1.0 200 OK\r\nServer: old\r\n\r\nold style body", False))
    r.append(("100-then-200",
              b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", False))
    r.append(("103-then-101", b"HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\n" + upgrade_101(), False))
    r.append(("head-with-length", b"HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", True))
    r.append(("head-chunked", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", True))
    r.append(("204-no-content", b"HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n", False))
    r.append(("304-not-modified", b"HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n", False))
    r.append(("404-keepalive-pipelined",
              b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot foundHTTP/1.1 200 OK\r\n\r\n", False))
    r.append(("many-headers",
              b"HTTP/1.1 200 OK\r\n" + b"".join(b"X-H%d: %s\r\n" % (i, b"v" * i) for i in range(40)) +
              b"Content-Length: 0\r\n\r\n", False))
    r.append(("long-header", b"HTTP/1.1 200 OK\r\nX-Long: " + b"L" * 2000 + b"\r\nContent-Length: 0\r\n\r\n",
              False))
    r.append(("body-1k", b"HTTP/1.1 200 OK\r\nContent-Length: 1024\r\n\r\n" + bytes(range(256)) * 4, False))
    r.append(("bad-content-length", b"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", False))
    r.append(("two-content-lengths", b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
              False))
    r.append(("truncated-body", b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort", False))
    r.append(("truncated-head", b"HTTP/1.1 200 OK\r\nX-A: 1\r\n", False))
    r.append(("garbage", b"\x00\x01garbage\r\n\r\nnot http at all", False))
    r.append(("http2-preface", b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", False))
    r.append(("lf-only", b"HTTP/1.1 200 OK\nContent-Length: 3\n\nabc", False))
    r.append(("obs-fold", b"HTTP/1.1 200 OK\r\nX-Fold: a\r\n b\r\nContent-Length: 0\r\n\r\n", False))
    return r


def http_corpus():
    # Flags byte: bit 0 HEAD, bits 1-3 header limit (7: 64 KiB), bits 4-7 body limit (13: 1 MiB).
    roomy = (7 << 1) | (13 << 4)
    tight = (2 << 1) | (4 << 4)  # 128-byte head, 16-byte body
    chunkings = [WHOLE, FIXED3, BYTES, RAND8, RAND64, FIXED13]
    for i, (name, data, head) in enumerate(http_responses()):
        flags = (tight if i % 5 == 4 else roomy) | (1 if head else 0)
        write("fuzz_response_parser", name, bytes([chunkings[i % len(chunkings)], flags]) + data)
        if name.startswith("101") or name in ("103-then-101", "200-content-length", "garbage", "100-then-200"):
            write("fuzz_handshake", name, data)


def utf8_corpus():
    samples = [
        ("ascii", b"plain ASCII text, long enough for the word-at-a-time path of the validator"),
        ("two-byte", "caf\u00e9 \u00fcber".encode()),
        ("three-byte", "\u20ac \u3042 \uffff \ud7ff".encode("utf-8", "surrogatepass")),
        ("four-byte", "\U0001F600 \U00010000 \U0010FFFF".encode()),
        ("boundaries", b"\xc2\x80\xdf\xbf\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xf0\x90\x80\x80\xf4\x8f\xbf\xbf"),
        ("overlong", b"\xc0\xaf \xe0\x80\xaf \xf0\x80\x80\xaf"),
        ("surrogates", b"\xed\xa0\x80\xed\xbf\xbf"),
        ("above-max", b"\xf4\x90\x80\x80\xf5\x80\x80\x80"),
        ("lone-continuation", b"abc\x80def"),
        ("truncated", b"ok \xe2\x82"),
        ("invalid-lead", b"\xfe\xff"),
        ("mixed-long", ("x" * 40 + "\u00e9" + "y" * 33 + "\U0001F600").encode() + b"\xe2\x28\xa1"),
    ]
    chunkings = [WHOLE, BYTES, FIXED3, RAND8]
    for i, (name, data) in enumerate(samples):
        write("fuzz_utf8", name, bytes([chunkings[i % len(chunkings)]]) + data)


def url_corpus():
    urls = [
        ("ws", b"ws://example.com/chat"),
        ("wss-port-query", b"wss://example.com:8443/path?x=1&y=2#frag"),
        ("http-no-path", b"http://localhost"),
        ("https-default-port", b"HTTPS://Example.COM:443"),
        ("ipv6", b"ws://[::1]:9001/socket"),
        ("ipv6-no-port", b"wss://[2001:db8::7]"),
        ("query-only", b"ws://host?only=query"),
        ("userinfo", b"ws://user:pass@host/"),
        ("bad-port", b"ws://host:99999/"),
        ("empty-port", b"ws://host:/x"),
        ("unsupported", b"ftp://host/"),
        ("no-scheme", b"example.com/chat"),
    ]
    for name, data in urls:
        write("fuzz_url", name, data)


def session_core_corpus():
    # Every byte is a decision of the simulated world (see
    # fuzz/fuzz_session_core.cpp); fixed pseudo-random streams of a few
    # lengths give the fuzzer whole histories to mutate.
    import random
    for seed, length in [(1, 64), (2, 512), (3, 2048), (4, 4000)]:
        rng = random.Random(seed)
        write("fuzz_session_core", "history-%d-%d" % (seed, length), bytes(rng.randrange(256) for _ in range(length)))
    write("fuzz_session_core", "all-zero", bytes(256))


def main():
    if os.path.isdir(CORPUS):
        shutil.rmtree(CORPUS)
    decoder_corpus()
    deflate_corpus()
    extensions_corpus()
    http_corpus()
    utf8_corpus()
    url_corpus()
    session_core_corpus()
    total = sum(len(files) for _, _, files in os.walk(CORPUS))
    print("wrote %d seed files under %s" % (total, CORPUS))


if __name__ == "__main__":
    main()
