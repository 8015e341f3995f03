#pragma once
// `rustlog top`'s screen, as data: the status document (GET /api/status,
// docs/OPERATIONS.md) turned into lines of styled spans, the same view as
// the status page. No terminal here: top.cpp draws the lines (with ANSI
// styles, cut to the terminal's width) or prints them plain (--once).
#include <cstdint>
#include <map>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

namespace rustlog::cli {

enum class Style { kPlain, kBold, kDim, kHeader, kGrew, kReadOnly, kError };

struct Span {
  std::string text;
  Style style = Style::kPlain;
};
using Line = std::vector<Span>;

// Remembers each group offset's lag between refreshes: a lag that grew is
// highlighted for kHoldMs after it last grew (as on the status page).
class LagTracker {
 public:
  static constexpr int64_t kHoldMs = 5000;
  // Records the lag of (group, topic, partition) at now_ms; true while it
  // counts as growing.
  bool observe(const std::string& group, const std::string& topic, uint32_t partition, uint64_t lag, int64_t now_ms);

 private:
  struct Seen {
    uint64_t lag = 0;
    int64_t grew_at = -1;
  };
  std::map<std::tuple<std::string, std::string, uint32_t>, Seen> seen_;
};

struct TopContext {
  std::string source;      // "http://127.0.0.1:9464/api/status"
  double interval_s = 1;   // refresh interval, for the footer
  std::string error;       // the last refresh failed (the lines show the last good document)
  bool interactive = true; // footer says how to quit
};

// The whole screen for one document. `lags` is updated (call once per
// refresh with a new document).
std::vector<Line> top_view(const nlohmann::json& doc, const TopContext& ctx, LagTracker& lags, int64_t now_ms);

// Display width (code points) of UTF-8 text.
size_t display_width(const std::string& s);

}  // namespace rustlog::cli
