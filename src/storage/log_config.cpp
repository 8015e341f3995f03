#include "storage/log_config.h"

#include <charconv>

namespace rustlog {

Result<FlushPolicy> FlushPolicy::parse(std::string_view text) {
  FlushPolicy p;
  if (text == "always") return p;
  if (text == "never") {
    p.kind = Kind::kNever;
    return p;
  }
  constexpr std::string_view kPrefix = "interval:";
  if (text.substr(0, kPrefix.size()) == kPrefix) {
    auto num = text.substr(kPrefix.size());
    uint32_t ms = 0;
    auto [ptr, ec] = std::from_chars(num.data(), num.data() + num.size(), ms);
    if (ec == std::errc() && ptr == num.data() + num.size() && ms > 0) {
      p.kind = Kind::kInterval;
      p.interval_ms = ms;
      return p;
    }
  }
  return Status(ErrorCode::kInvalidRequest,
                "bad flush policy '" + std::string(text) +
                    "': use always, never or interval:<milliseconds> (e.g. interval:100)");
}

std::string FlushPolicy::to_string() const {
  switch (kind) {
    case Kind::kAlways: return "always";
    case Kind::kNever: return "never";
    case Kind::kInterval: return "interval:" + std::to_string(interval_ms);
  }
  return "always";
}

Status LogConfig::validate() const {
  if (segment_bytes < 1024 || segment_bytes > 0x7FFFFFFFull)
    return Status(ErrorCode::kInvalidRequest,
                  "segment.bytes must be between 1024 and 2147483647 (got " +
                      std::to_string(segment_bytes) + ")");
  if (segment_ms < 1)
    return Status(ErrorCode::kInvalidRequest, "segment.ms must be at least 1");
  if (preallocate_bytes != 0 && (preallocate_bytes < 4096 || preallocate_bytes > (1ull << 30)))
    return Status(ErrorCode::kInvalidRequest, "segment preallocation must be 0 (off) or between 4096 and "
                                              "1073741824 bytes (got " + std::to_string(preallocate_bytes) + ")");
  if (index_interval_bytes > (64u << 20))
    return Status(ErrorCode::kInvalidRequest, "index.interval.bytes must be at most 67108864");
  return Status::ok();
}

}  // namespace rustlog
