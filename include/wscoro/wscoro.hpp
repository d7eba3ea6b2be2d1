// Everything a wscoro user includes.
#pragma once

#include "wscoro/connection.hpp"
#include "wscoro/error.hpp"
#include "wscoro/event.hpp"
#include "wscoro/frame.hpp"
#include "wscoro/http.hpp"
#include "wscoro/options.hpp"
#include "wscoro/trace.hpp"
#include "wscoro/upgrade.hpp"
#include "wscoro/websocket.hpp"
