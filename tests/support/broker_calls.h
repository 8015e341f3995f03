#pragma once
// Typed request/response helpers for the broker's end-to-end tests.
//
//   auto p = call<ProduceResponse>(conn, ProduceRequest{"t", 0, {"a", "b"}});
//   auto e = call_error(conn, FetchRequest{"", "nope", 0, 0, 1024});
//   EXPECT_EQ(e.code, ErrorCode::kTopicNotFound);
//
// A transport failure or a response of another type than expected throws
// TestFailure: gtest reports the exception (with the response, e.g. the
// broker's Error code and message) as the test's failure and ends the test.
// Worker threads must catch it themselves.
#include <gtest/gtest.h>

#include <cctype>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "client/connection.h"
#include "protocol/codec.h"
#include "protocol/error_codes_v0.h"
#include "protocol/messages.h"
#include "common/byte_order.h"

namespace rustlog::test {

struct TestFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// "ProduceResponse" or "Error 404 (topic 't' does not exist)".
inline std::string describe(const protocol::Response& r) {
  if (const auto* e = std::get_if<protocol::ErrorResponse>(&r))
    return "Error " + std::to_string(static_cast<unsigned>(e->code)) + " (" + e->message + ")";
  return std::string(protocol::message_type_name(protocol::type_of(r))) + " response";
}

// A v0 code as ErrorResponse::code carries it (a connection that has not
// sent Handshake gets these for v0 requests: protocol/error_codes_v0.h).
inline ErrorCode v0(protocol::V0Code c) { return static_cast<ErrorCode>(c); }

// The response as T, or TestFailure.
template <typename T>
T as(Result<protocol::Response> r, std::string_view context = {}) {
  const std::string where = context.empty() ? "" : " [" + std::string(context) + "]";
  if (!r) throw TestFailure("request failed: " + r.status().to_string() + where);
  if (auto* v = std::get_if<T>(&*r)) return std::move(*v);
  throw TestFailure("expected " + std::string(protocol::message_type_name(T::kType)) + " response, got " +
                    describe(*r) + where);
}

template <typename T>
T call(client::Connection& c, const protocol::Request& req, std::string_view context = {}) {
  return as<T>(c.call(req), context);
}

inline protocol::ErrorResponse call_error(client::Connection& c, const protocol::Request& req,
                                          std::string_view context = {}) {
  return call<protocol::ErrorResponse>(c, req, context);
}

// A Ping round trip works on this connection.
inline ::testing::AssertionResult pings(client::Connection& c) {
  auto r = c.call(protocol::PingRequest{});
  if (!r) return ::testing::AssertionFailure() << "ping failed: " << r.status().to_string();
  if (!std::holds_alternative<protocol::PongResponse>(*r))
    return ::testing::AssertionFailure() << "ping answered with " << describe(*r);
  return ::testing::AssertionSuccess();
}

// A counter or gauge of the broker's metrics (MetricsFetch), summed over
// the samples whose labels include `match` (name=value pairs); 0 if absent.
// The broker's metrics text, one scrape (MetricsFetch).
inline std::string metrics_text(client::Connection& c) {
  return call<protocol::MetricsResponse>(c, protocol::MetricsFetchRequest{}).text;
}

// metric() over a scrape already taken: several values from one instant.
inline double metric_in(const std::string& text, const std::string& name,
                        const std::vector<std::pair<std::string, std::string>>& match = {}) {
  double sum = 0;
  size_t at = 0;
  while (at < text.size()) {
    size_t end = text.find('\n', at);
    if (end == std::string::npos) end = text.size();
    const std::string_view line(text.data() + at, end - at);
    at = end + 1;
    if (line.empty() || line[0] == '#' || line.substr(0, name.size()) != name) continue;
    const size_t after = name.size();
    if (after < line.size() && line[after] != ' ' && line[after] != '{') continue;
    bool ok = true;
    for (const auto& [k, v] : match) ok = ok && line.find(k + "=\"" + v + "\"") != std::string_view::npos;
    if (ok) sum += std::stod(std::string(line.substr(line.rfind(' ') + 1)));
  }
  return sum;
}

inline double metric(client::Connection& c, const std::string& name,
                     const std::vector<std::pair<std::string, std::string>>& match = {}) {
  return metric_in(metrics_text(c), name, match);
}

// EXPECT_TRUE(has_substr(message, "0..10")) prints both strings on failure.
inline ::testing::AssertionResult has_substr(std::string_view text, std::string_view part) {
  if (text.find(part) != std::string_view::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' does not contain '" << part << "'";
}

// "00 00 00 12  01 ..." -> bytes; whitespace is ignored.
inline std::string from_hex(std::string_view hex) {
  std::string out;
  int hi = -1;
  for (char ch : hex) {
    if (std::isspace(static_cast<unsigned char>(ch))) continue;
    const int v = std::isdigit(static_cast<unsigned char>(ch)) ? ch - '0' : std::tolower(ch) - 'a' + 10;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<char>(hi * 16 + v));
      hi = -1;
    }
  }
  return out;
}

inline std::string to_hex(std::string_view bytes) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < bytes.size(); ++i) {
    if (i) out.push_back(' ');
    const auto b = static_cast<uint8_t>(bytes[i]);
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
  return out;
}

// u32 length + payload, without any checks (for malformed frames).
inline std::string raw_frame(std::string_view payload) {
  std::string out(4, '\0');
  put_u32(reinterpret_cast<uint8_t*>(out.data()), static_cast<uint32_t>(payload.size()));
  out.append(payload);
  return out;
}

// Big-endian field builders for hand-made payloads.
inline std::string be16(uint16_t v) {
  std::string s(2, '\0');
  put_u16(reinterpret_cast<uint8_t*>(s.data()), v);
  return s;
}
inline std::string be32(uint32_t v) {
  std::string s(4, '\0');
  put_u32(reinterpret_cast<uint8_t*>(s.data()), v);
  return s;
}
inline std::string be64(uint64_t v) {
  std::string s(8, '\0');
  put_u64(reinterpret_cast<uint8_t*>(s.data()), v);
  return s;
}
inline std::string wire_str(std::string_view s) { return be16(static_cast<uint16_t>(s.size())) + std::string(s); }

}  // namespace rustlog::test
