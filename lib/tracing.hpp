// Trace points: each calls a tracer hook only when a tracer is set, so that
// with tracing off a trace point is one predictable branch, with no clock
// reading and no argument built.
#pragma once

#include <memory>
#include <utility>

#include "wscoro/trace.hpp"

namespace wscoro::detail {

/// Calls `hook(now, args...)`.
template <class Hook, class... Args>
inline void trace(const std::shared_ptr<tracer>& t, Hook hook, Args&&... args) {
  if (t) [[unlikely]]
    ((*t).*hook)(tracer::clock::now(), std::forward<Args>(args)...);
}

/// The start of a timed stretch: now when tracing, nothing otherwise.
inline tracer::time_point trace_clock(const std::shared_ptr<tracer>& t) {
  return t ? tracer::clock::now() : tracer::time_point{};
}

/// Calls `hook(now, args...)` and returns that now, the start of a timed
/// stretch for trace_since.
template <class Hook, class... Args>
inline tracer::time_point trace_start(const std::shared_ptr<tracer>& t, Hook hook, Args&&... args) {
  if (!t) [[likely]]
    return {};
  const auto now = tracer::clock::now();
  ((*t).*hook)(now, std::forward<Args>(args)...);
  return now;
}

/// Calls `hook(now, args..., now - started)`.
template <class Hook, class... Args>
inline void trace_since(const std::shared_ptr<tracer>& t, tracer::time_point started, Hook hook, Args&&... args) {
  if (t) [[unlikely]] {
    const auto now = tracer::clock::now();
    ((*t).*hook)(now, std::forward<Args>(args)..., now - started);
  }
}

}  // namespace wscoro::detail
