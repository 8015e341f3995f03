#include "bin/commands/bench_values.h"

#include <cstdio>

namespace rustlog::cli {

namespace {
constexpr const char* kMethods[] = {"GET", "GET", "GET", "POST", "PUT", "DELETE"};
constexpr const char* kPaths[] = {"/api/v1/orders/", "/api/v1/users/", "/static/js/app.", "/images/products/",
                                  "/api/v1/cart/", "/search?q=", "/checkout/step/", "/health"};
constexpr const char* kAgents[] = {
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_1) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Safari/605",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "curl/7.88.1", "Go-http-client/2.0", "python-requests/2.31.0"};
constexpr const char* kReferrers[] = {"-", "https://shop.example.com/", "https://shop.example.com/cart",
                                      "https://www.google.com/"};
constexpr int kStatus[] = {200, 200, 200, 200, 200, 201, 204, 301, 304, 404, 500};
template <typename T, size_t N>
constexpr size_t count(const T (&)[N]) { return N; }
}  // namespace

BenchValues::BenchValues(const std::string& kind, uint32_t value_bytes, uint64_t seed) {
  std::mt19937_64 rng(seed);
  if (kind == "access-log") {
    pool_.reserve(kPoolLines);
    for (size_t i = 0; i < kPoolLines; ++i) pool_.push_back(line(rng, i));
    return;
  }
  value_.assign(value_bytes, ' ');
  for (char& c : value_) c = static_cast<char>('a' + rng() % 26);
}

const std::string& BenchValues::next() {
  if (pool_.empty()) return value_;
  const std::string& v = pool_[n_];
  n_ = (n_ + 1) % pool_.size();
  return v;
}

// Combined log format: one second of the day per ~20 lines.
std::string BenchValues::line(std::mt19937_64& rng, uint64_t n) const {
  const uint64_t r = rng();
  const uint64_t t = n / 20;
  char buf[512];
  const int len = std::snprintf(
      buf, sizeof buf, "%u.%u.%u.%u - - [01/Dec/2026:%02u:%02u:%02u +0000] \"%s %s%u HTTP/1.1\" %d %u \"%s\" \"%s\"",
      static_cast<unsigned>(10 + r % 3), static_cast<unsigned>((r >> 8) % 256), static_cast<unsigned>((r >> 16) % 256),
      static_cast<unsigned>(1 + (r >> 24) % 254), static_cast<unsigned>(t / 3600 % 24),
      static_cast<unsigned>(t / 60 % 60), static_cast<unsigned>(t % 60), kMethods[(r >> 32) % count(kMethods)],
      kPaths[(r >> 35) % count(kPaths)], static_cast<unsigned>((r >> 38) % 100000),
      kStatus[(r >> 55) % count(kStatus)], static_cast<unsigned>(200 + (r >> 20) % 30000),
      kReferrers[(r >> 44) % count(kReferrers)], kAgents[(r >> 47) % count(kAgents)]);
  return std::string(buf, len > 0 ? static_cast<size_t>(len) : 0);
}

}  // namespace rustlog::cli
