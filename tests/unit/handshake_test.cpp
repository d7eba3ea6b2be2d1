#include <doctest/doctest.h>

#include <set>

#include "wscoro/error.hpp"
#include "ws/handshake.hpp"

using namespace wscoro;

namespace {

response switching(std::string accept) {
  response r;
  r.status = 101;
  r.reason = "Switching Protocols";
  r.headers.add("Upgrade", "websocket");
  r.headers.add("Connection", "Upgrade");
  r.headers.add("Sec-WebSocket-Accept", std::move(accept));
  return r;
}

}  // namespace

TEST_CASE("handshake: RFC 6455 section 1.3 accept example") {
  CHECK(ws::accept_for("dGhlIHNhbXBsZSBub25jZQ==") == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
}

TEST_CASE("handshake: keys are base64 of 16 random bytes and differ") {
  std::set<std::string> keys;
  for (int i = 0; i < 100; ++i) {
    const std::string key = ws::make_key();
    CHECK(key.size() == 24);
    CHECK(key.substr(22) == "==");
    keys.insert(key);
  }
  CHECK(keys.size() == 100);
}

TEST_CASE("handshake: a correct 101 passes; header names and tokens ignore case") {
  const ws::handshake_offer offer{"dGhlIHNhbXBsZSBub25jZQ==", {}, {}};
  std::string protocol = "stale";
  std::optional<ws::deflate_parameters> deflate;
  CHECK_FALSE(ws::check_upgrade_response(switching("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="), offer, protocol, deflate));
  CHECK(protocol.empty());

  response r;
  r.status = 101;
  r.headers.add("UPGRADE", "WebSocket");
  r.headers.add("connection", "keep-alive, upgrade");
  r.headers.add("sec-websocket-accept", " s3pPLMBiTxaQ9kYGzzhZRbK+xOo= ");
  CHECK_FALSE(ws::check_upgrade_response(r, offer, protocol, deflate));
}

TEST_CASE("handshake: each failed check has its own error") {
  const ws::handshake_offer offer{"dGhlIHNhbXBsZSBub25jZQ==", {"chat", "superchat"}, {}};
  const std::string good = "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=";
  std::string protocol;
  std::optional<ws::deflate_parameters> deflate;

  response no_upgrade;
  no_upgrade.status = 101;
  no_upgrade.headers.add("Connection", "Upgrade");
  no_upgrade.headers.add("Sec-WebSocket-Accept", good);
  CHECK(ws::check_upgrade_response(no_upgrade, offer, protocol, deflate) == error::upgrade_header_missing);

  response no_connection;
  no_connection.status = 101;
  no_connection.headers.add("Upgrade", "websocket");
  no_connection.headers.add("Sec-WebSocket-Accept", good);
  CHECK(ws::check_upgrade_response(no_connection, offer, protocol, deflate) == error::connection_header_missing);

  response no_accept;
  no_accept.status = 101;
  no_accept.headers.add("Upgrade", "websocket");
  no_accept.headers.add("Connection", "Upgrade");
  CHECK(ws::check_upgrade_response(no_accept, offer, protocol, deflate) == error::accept_key_missing);

  CHECK(ws::check_upgrade_response(switching("AAAAAAAAAAAAAAAAAAAAAAAAAAA="), offer, protocol, deflate) ==
        error::accept_key_mismatch);

  auto twice = switching(good);
  twice.headers.add("Sec-WebSocket-Accept", good);
  CHECK(ws::check_upgrade_response(twice, offer, protocol, deflate) == error::accept_key_mismatch);

  auto chosen = switching(good);
  chosen.headers.add("Sec-WebSocket-Protocol", "superchat");
  CHECK_FALSE(ws::check_upgrade_response(chosen, offer, protocol, deflate));
  CHECK(protocol == "superchat");

  auto unoffered = switching(good);
  unoffered.headers.add("Sec-WebSocket-Protocol", "other");
  CHECK(ws::check_upgrade_response(unoffered, offer, protocol, deflate) == error::unoffered_subprotocol);

  auto wrong_case = switching(good);
  wrong_case.headers.add("Sec-WebSocket-Protocol", "CHAT");
  CHECK(ws::check_upgrade_response(wrong_case, offer, protocol, deflate) == error::unoffered_subprotocol);

  auto two = switching(good);
  two.headers.add("Sec-WebSocket-Protocol", "chat, superchat");
  CHECK(ws::check_upgrade_response(two, offer, protocol, deflate) == error::unoffered_subprotocol);

  auto extension = switching(good);
  extension.headers.add("Sec-WebSocket-Extensions", "permessage-deflate");
  CHECK(ws::check_upgrade_response(extension, offer, protocol, deflate) == error::unoffered_extension);
}

TEST_CASE("handshake: offered subprotocols come from every sec-websocket-protocol header") {
  fields f{{"Sec-WebSocket-Protocol", "a, b"}, {"x-other", "c"}, {"sec-websocket-protocol", "d"}};
  CHECK(ws::offered_protocols(f) == std::vector<std::string>{"a", "b", "d"});
}
