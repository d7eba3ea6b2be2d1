// How the samples treat an upgrade that did not happen: say why on stderr.
#pragma once

#include <wscoro/upgrade.hpp>

#include <iostream>

namespace samples {

/// The upgraded session, or null after printing the refusal or failure.
inline wscoro::upgraded* upgraded_or_report(wscoro::upgrade_result& result) {
  if (auto* r = std::get_if<wscoro::refused>(&result)) {
    std::cerr << "refused: " << r->response.status << " " << r->response.reason << "\n" << r->response.body;
    return nullptr;
  }
  if (auto* f = std::get_if<wscoro::failed>(&result)) {
    std::cerr << "upgrade failed: " << f->error.message() << "\n";
    return nullptr;
  }
  return &std::get<wscoro::upgraded>(result);
}

}  // namespace samples
