#pragma once
// "HOST:PORT" addresses, as the broker's listen options and the client's
// broker addresses spell them: "127.0.0.1:9092", "localhost:9092",
// "[::1]:9092" (an IPv6 host needs brackets, as in a URL).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace rustlog {

struct HostPort {
  std::string host;  // without brackets
  uint16_t port = 0;
  // "host:port", with brackets around an IPv6 host.
  std::string to_string() const;
};

struct HostPortRules {
  // Used when the text has no ":PORT"; without one a port is required.
  std::optional<uint16_t> default_port;
  // Port 0 asks the kernel for an ephemeral port (a listener, not a peer).
  bool allow_port_zero = false;
};

// kInvalidRequest with the reason alone (e.g. "empty port"): callers say
// which option or argument held the text.
Result<HostPort> parse_host_port(std::string_view text, const HostPortRules& rules = {});

}  // namespace rustlog
