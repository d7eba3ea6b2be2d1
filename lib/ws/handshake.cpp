#include "ws/handshake.hpp"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <stdexcept>

#include "wscoro/error.hpp"
#include "http/tokens.hpp"

namespace wscoro::ws {
namespace {

std::string base64(const unsigned char* data, int size) {
  std::string out(static_cast<std::size_t>(4 * ((size + 2) / 3)), '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()), data, size);
  out.resize(static_cast<std::size_t>(n));
  return out;
}

constexpr std::string_view websocket_guid = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

}  // namespace

std::string make_key() {
  unsigned char nonce[16];
  if (RAND_bytes(nonce, sizeof nonce) != 1)
    throw std::runtime_error("wscoro: OpenSSL's RAND_bytes failed to give a Sec-WebSocket-Key");
  return base64(nonce, sizeof nonce);
}

std::string accept_for(std::string_view key) {
  std::string input(key);
  input.append(websocket_guid);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int size = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &size, EVP_sha1(), nullptr) != 1)
    throw std::runtime_error("wscoro: OpenSSL could not compute SHA-1 for Sec-WebSocket-Accept");
  return base64(digest, static_cast<int>(size));
}

std::vector<std::string> offered_protocols(const fields& f) {
  std::vector<std::string> out;
  for (const header& h : f)
    if (iequals(h.name, "sec-websocket-protocol"))
      for (std::string_view token : http::split_list(h.value)) out.emplace_back(token);
  return out;
}

std::error_code check_upgrade_response(const response& head, const handshake_offer& offer,
                                       std::string& protocol, std::optional<deflate_parameters>& deflate) {
  const auto upgrade = head.headers.combined("upgrade");
  if (!upgrade || !http::list_contains(*upgrade, "websocket")) return error::upgrade_header_missing;
  const auto connection = head.headers.combined("connection");
  if (!connection || !http::list_contains(*connection, "upgrade"))
    return error::connection_header_missing;

  if (head.headers.count("sec-websocket-accept") != 1) {
    return head.headers.contains("sec-websocket-accept") ? error::accept_key_mismatch
                                                         : error::accept_key_missing;
  }
  if (http::trim(*head.headers.find("sec-websocket-accept")) != accept_for(offer.key))
    return error::accept_key_mismatch;

  protocol.clear();
  if (const auto selected = head.headers.combined("sec-websocket-protocol")) {
    const auto tokens = http::split_list(*selected);
    if (tokens.size() != 1) return error::unoffered_subprotocol;
    // Subprotocol names are case-sensitive (RFC 6455 4.1, item 6).
    if (std::find(offer.protocols.begin(), offer.protocols.end(), tokens.front()) ==
        offer.protocols.end())
      return error::unoffered_subprotocol;
    protocol = std::string(tokens.front());
  }
  deflate.reset();
  if (const auto extensions = head.headers.combined("sec-websocket-extensions"))
    return accept_deflate_answer(*extensions, offer.deflate ? &*offer.deflate : nullptr, deflate);
  return {};
}

}  // namespace wscoro::ws
