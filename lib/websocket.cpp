#include "wscoro/websocket.hpp"

#include "wscoro/error.hpp"
#include "session.hpp"

namespace wscoro {
namespace {

void throw_if(std::error_code ec) {
  if (ec) throw std::system_error(ec);
}

}  // namespace

websocket::websocket(std::shared_ptr<detail::session> s) noexcept : session_(std::move(s)) {}
websocket::websocket(websocket&&) noexcept = default;

websocket& websocket::operator=(websocket&& other) noexcept {
  if (this != &other) {
    if (session_) session_->abandon();
    session_ = std::move(other.session_);
  }
  return *this;
}

websocket::~websocket() {
  if (session_) session_->abandon();
}

websocket::executor_type websocket::get_executor() const { return session_->get_executor(); }

asio::awaitable<std::optional<event>> websocket::receive_event() {
  auto s = session_;
  if (!s) co_return std::nullopt;  // moved from
  for (;;) {
    if (auto e = s->try_receive()) co_return e;
    if (!s->is_open()) co_return std::nullopt;
    co_await s->wait_for_event();
  }
}

asio::awaitable<std::optional<frame>> websocket::receive() {
  auto s = session_;
  if (!s) co_return std::nullopt;  // moved from
  for (;;) {
    auto e = s->try_receive();
    if (!e) {
      if (!s->is_open()) co_return std::nullopt;
      co_await s->wait_for_event();
      continue;
    }
    std::optional<frame> f;
    std::visit(
        [&](auto& v) {
          using T = std::decay_t<decltype(v)>;
          if constexpr (!std::is_same_v<T, down> && !std::is_same_v<T, up>) f.emplace(std::move(v));
        },
        *e);
    if (f) co_return f;
  }
}

asio::awaitable<void> websocket::send(frame f, std::error_code& ec) {
  auto s = session_;
  if (!s) {
    ec = error::session_ended;
    co_return;
  }
  co_await s->send(detail::outgoing_frames(std::move(f)), ec);
}

asio::awaitable<void> websocket::send(frame f) {
  std::error_code ec;
  co_await send(std::move(f), ec);
  throw_if(ec);
}

asio::awaitable<void> websocket::send(std::vector<frame> batch, std::error_code& ec) {
  auto s = session_;
  if (!s) {
    ec = error::session_ended;
    co_return;
  }
  co_await s->send(detail::outgoing_frames(std::move(batch)), ec);
}

asio::awaitable<void> websocket::send(std::vector<frame> batch) {
  std::error_code ec;
  co_await send(std::move(batch), ec);
  throw_if(ec);
}

asio::awaitable<void> websocket::close(std::uint16_t code, std::string reason, std::error_code& ec) {
  auto s = session_;
  ec = {};
  if (!s) co_return;
  co_await s->close(close_frame{code, std::move(reason)}, ec);
}

asio::awaitable<void> websocket::close(std::uint16_t code, std::string reason) {
  std::error_code ec;
  co_await close(code, std::move(reason), ec);
  throw_if(ec);
}

bool websocket::is_open() const noexcept { return session_ && session_->is_open(); }

std::error_code websocket::error() const noexcept {
  return session_ ? session_->error() : std::error_code(error::session_ended);
}

const std::string& websocket::protocol() const noexcept {
  static const std::string none;
  return session_ ? session_->protocol() : none;
}

const std::string& websocket::extensions() const noexcept {
  static const std::string none;
  return session_ ? session_->extensions() : none;
}

}  // namespace wscoro
