#include "common/host_port.h"

#include <charconv>

namespace rustlog {

std::string HostPort::to_string() const {
  const bool v6 = host.find(':') != std::string::npos;
  return (v6 ? "[" + host + "]" : host) + ":" + std::to_string(port);
}

Result<HostPort> parse_host_port(std::string_view text, const HostPortRules& rules) {
  auto bad = [](const char* why) { return Status(ErrorCode::kInvalidRequest, why); };
  std::string_view host = text, port;
  bool has_port = false;
  if (!text.empty() && text.front() == '[') {
    const size_t close = text.find(']');
    if (close == std::string_view::npos) return bad("missing ']'");
    host = text.substr(1, close - 1);
    const std::string_view rest = text.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return bad("expected ':' after ']'");
      port = rest.substr(1);
      has_port = true;
    }
  } else if (const size_t colon = text.rfind(':'); colon != std::string_view::npos) {
    if (text.find(':') != colon) return bad("an IPv6 address needs brackets: [::1]:9092");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    has_port = true;
  }
  if (host.empty()) return bad("empty host");
  HostPort hp;
  hp.host = std::string(host);
  if (!has_port) {
    if (!rules.default_port) return bad("missing port");
    hp.port = *rules.default_port;
    return hp;
  }
  if (port.empty()) return bad("empty port");
  unsigned v = 0;
  const auto [p, ec] = std::from_chars(port.data(), port.data() + port.size(), v);
  const unsigned min = rules.allow_port_zero ? 0 : 1;
  if (ec != std::errc() || p != port.data() + port.size() || v < min || v > 65535)
    return bad(rules.allow_port_zero ? "port must be a number from 0 to 65535"
                                     : "port must be a number from 1 to 65535");
  hp.port = static_cast<uint16_t>(v);
  return hp;
}

}  // namespace rustlog
