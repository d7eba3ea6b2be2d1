#!/usr/bin/env node
// Test peer for wscoro: a WebSocket server built on Node's `ws` (8.x).
//
// Usage:
//   NODE_PATH=/usr/share/nodejs node tests/peers/node_server.js
//       [--tls CERT KEY] [--unix PATH] [--deflate] [--deflate-server-no-context-takeover]
//       [--deflate-client-no-context-takeover] [--deflate-server-max-window-bits N]
//       [--deflate-client-max-window-bits N] [--verbose]
//
// Listens on 127.0.0.1 with an ephemeral port (or on PATH with --unix), then
// prints exactly one line "PORT <n>" ("PORT 0" for --unix) to stdout. All
// other output goes to stderr. The server stops on SIGTERM, SIGINT, or when
// its stdin reaches EOF (the test harness closes stdin to stop it, so an
// orphaned server never lingers).
//
// Server settings: permessage-deflate only with --deflate (every message
// compressed, threshold 0; the --deflate-* flags set the parameters the
// server asks for and imply --deflate), maxPayload 64 MiB,
// no keepalive pings, subprotocols "chat" and "superchat" (the first one the
// client offers that the server supports is selected; none -> none).
//
// Routes (request path and query string):
//   /, /echo         Echo every message back with the same type (text/binary)
//                    until the client closes. Baseline for send/receive tests.
//   /refuse          Refuse the upgrade: HTTP 403, header "X-Refusal: testing",
//                    body "go away: refused by test server\n". Tests handshake
//                    failure reporting.
//   /ping            Send a ping with payload "hello-ping" right after the
//                    upgrade (not waiting for the pong), then echo. Tests that
//                    the client answers pings automatically.
//   /close?code=4001&reason=bye%20now
//                    Close right away with that code (default 1000) and reason
//                    (default ""). Tests server-initiated close handling.
//   /fragmented?parts=3&size=10&type=text|binary
//                    Send ONE message as exactly `parts` frames of `size` bytes
//                    each (first text/binary, then continuations, FIN on the
//                    last), then echo. Payload is the same pattern as /send with
//                    size=parts*size. Tests reassembly of fragmented messages.
//   /send?size=N&type=binary|text&count=K
//                    Send K (default 1) messages of N (default 16) bytes each,
//                    then echo. binary: byte i is i % 251; text: 'a'..'z'
//                    cycling. Tests server-initiated and large messages.
//   /headers         Send one text message holding a JSON object of the request
//                    headers (lower-cased name -> value), then echo. Tests what
//                    the client sends.
//   /drop-mid-frame  Write a frame header announcing a 100-byte binary payload
//                    plus only 10 payload bytes, then destroy the TCP socket.
//                    Tests handling of a peer vanishing mid-frame.
// Any other path is refused with HTTP 404.
'use strict';

const fs = require('fs');
const http = require('http');
const https = require('https');
const { WebSocketServer } = require('ws');

const SUBPROTOCOLS = ['chat', 'superchat'];
const ROUTES = new Set(['/', '/echo', '/refuse', '/ping', '/close',
  '/fragmented', '/send', '/headers', '/drop-mid-frame']);

function usage(message) {
  process.stderr.write(`node_server: ${message}\n` +
    'usage: node_server.js [--tls CERT KEY] [--unix PATH] [--deflate] [--deflate-server-no-context-takeover]\n' +
    '  [--deflate-client-no-context-takeover] [--deflate-server-max-window-bits N]\n' +
    '  [--deflate-client-max-window-bits N] [--verbose]\n');
  process.exit(2);
}

function parseArgs(argv) {
  const args = { tls: null, unix: null, deflate: false, deflateOptions: { threshold: 0 }, verbose: false };
  const windowBits = (i) => {
    if (i + 1 >= argv.length) usage(`${argv[i]} needs N`);
    args.deflate = true;
    return parseInt(argv[i + 1], 10);
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--tls') {
      if (i + 2 >= argv.length) usage('--tls needs CERT and KEY');
      args.tls = { cert: argv[i + 1], key: argv[i + 2] };
      i += 2;
    } else if (arg === '--unix') {
      if (i + 1 >= argv.length) usage('--unix needs PATH');
      args.unix = argv[++i];
    } else if (arg === '--deflate') {
      args.deflate = true;
    } else if (arg === '--deflate-server-no-context-takeover') {
      args.deflate = true;
      args.deflateOptions.serverNoContextTakeover = true;
    } else if (arg === '--deflate-client-no-context-takeover') {
      args.deflate = true;
      args.deflateOptions.clientNoContextTakeover = true;
    } else if (arg === '--deflate-server-max-window-bits') {
      args.deflateOptions.serverMaxWindowBits = windowBits(i++);
    } else if (arg === '--deflate-client-max-window-bits') {
      args.deflateOptions.clientMaxWindowBits = windowBits(i++);
    } else if (arg === '--verbose' || arg === '-v') {
      args.verbose = true;
    } else {
      usage(`unknown argument ${arg}`);
    }
  }
  return args;
}

const args = parseArgs(process.argv.slice(2));

function log(...parts) {
  if (args.verbose) process.stderr.write(`node_server: ${parts.join(' ')}\n`);
}

// Deterministic payloads, shared with py_server.py.
function pattern(size, type) {
  const buf = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) {
    buf[i] = type === 'binary' ? i % 251 : 0x61 + (i % 26);
  }
  return buf;
}

function intParam(query, name, fallback) {
  const value = query.get(name);
  return value === null || value === '' ? fallback : parseInt(value, 10);
}

// Writes a plain HTTP response on a socket that asked for an upgrade.
function refuse(socket, status, reason, headers, body) {
  const lines = [`HTTP/1.1 ${status} ${reason}`, 'Connection: close',
    'Content-Type: text/plain', `Content-Length: ${Buffer.byteLength(body)}`];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  socket.end(lines.join('\r\n') + '\r\n\r\n' + body);
}

const wss = new WebSocketServer({
  noServer: true,
  maxPayload: 64 * 1024 * 1024,
  perMessageDeflate: args.deflate ? args.deflateOptions : false,
  clientTracking: true,
  handleProtocols: (protocols /* Set, in client order */) => {
    for (const p of protocols) if (SUBPROTOCOLS.includes(p)) return p;
    return false;
  },
});

const server = args.tls
  ? https.createServer({ cert: fs.readFileSync(args.tls.cert), key: fs.readFileSync(args.tls.key) })
  : http.createServer();

// Plain HTTP requests (no upgrade) are not part of the contract.
server.on('request', (req, res) => {
  res.writeHead(426, { 'Content-Type': 'text/plain' });
  res.end('websocket only\n');
});

server.on('clientError', (err, socket) => {
  log('client error', err.message);
  socket.destroy();
});

server.on('upgrade', (req, socket, head) => {
  socket.on('error', (err) => log('socket error', err.message));
  const url = new URL(req.url, 'http://localhost');
  if (url.pathname === '/refuse') {
    refuse(socket, 403, 'Forbidden', { 'X-Refusal': 'testing' },
      'go away: refused by test server\n');
    return;
  }
  if (!ROUTES.has(url.pathname)) {
    refuse(socket, 404, 'Not Found', {}, 'no such route\n');
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => handle(ws, req, url));
});

function echo(ws) {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
}

function handle(ws, req, url) {
  const query = url.searchParams;
  log('connection', req.url, `subprotocol=${ws.protocol || 'none'}`);
  ws.on('error', (err) => log('error', req.url, err.message));
  ws.on('close', (code) => log('closed', req.url, code));

  switch (url.pathname) {
    case '/ping':
      ws.ping(Buffer.from('hello-ping'));
      break;
    case '/close':
      try {
        ws.close(intParam(query, 'code', 1000), query.get('reason') || '');
      } catch (err) { // e.g. an invalid close code
        log('close failed:', err.message);
        ws.terminate();
      }
      return;
    case '/fragmented': {
      const parts = intParam(query, 'parts', 3);
      const size = intParam(query, 'size', 10);
      const binary = query.get('type') === 'binary';
      const data = pattern(parts * size, binary ? 'binary' : 'text');
      for (let i = 0; i < parts; i++) {
        ws.send(data.subarray(i * size, (i + 1) * size), { binary, fin: i === parts - 1 });
      }
      break;
    }
    case '/send': {
      const binary = (query.get('type') || 'binary') === 'binary';
      const data = pattern(intParam(query, 'size', 16), binary ? 'binary' : 'text');
      const count = intParam(query, 'count', 1);
      for (let i = 0; i < count; i++) ws.send(data, { binary });
      break;
    }
    case '/headers': {
      const headers = {};
      for (const [name, value] of Object.entries(req.headers)) {
        headers[name] = Array.isArray(value) ? value.join(', ') : value;
      }
      ws.send(JSON.stringify(headers));
      break;
    }
    case '/drop-mid-frame': {
      // FIN + binary opcode, unmasked, 7-bit length 100; then 10 bytes.
      // Destroy only once the bytes are flushed: with TLS an immediate
      // destroy() would discard the still-pending encrypted write.
      const socket = ws._socket;
      socket.write(Buffer.concat([Buffer.from([0x82, 100]), pattern(10, 'binary')]),
        () => socket.destroy());
      return;
    }
    default: // '/', '/echo'
      break;
  }
  echo(ws);
}

let stopping = false;
function stop(why) {
  if (stopping) return;
  stopping = true;
  log('stopping:', why);
  server.close();
  for (const ws of wss.clients) ws.close(1001, 'server shutting down');
  const finish = () => {
    if (args.unix) {
      try { fs.unlinkSync(args.unix); } catch (err) { /* already gone */ }
    }
    process.exit(0);
  };
  if (wss.clients.size === 0) finish();
  const poll = setInterval(() => { if (wss.clients.size === 0) finish(); }, 20);
  // Do not wait for unresponsive clients longer than the harness waits.
  setTimeout(() => {
    clearInterval(poll);
    for (const ws of wss.clients) ws.terminate();
    finish();
  }, 1000);
}

process.on('SIGTERM', () => stop('SIGTERM'));
process.on('SIGINT', () => stop('SIGINT'));
process.stdin.on('end', () => stop('stdin closed'));
process.stdin.on('error', () => stop('stdin error'));
process.stdin.on('data', () => {}); // contents are ignored
process.stdin.resume();

server.on('error', (err) => {
  process.stderr.write(`node_server: listen failed: ${err.message}\n`);
  process.exit(1);
});

function listening() {
  const port = args.unix ? 0 : server.address().port;
  log('listening on', args.unix || `127.0.0.1:${port}`);
  process.stdout.write(`PORT ${port}\n`);
}

if (args.unix) {
  try { fs.unlinkSync(args.unix); } catch (err) { /* no stale socket */ }
  server.listen(args.unix, listening);
} else {
  server.listen(0, '127.0.0.1', listening);
}
