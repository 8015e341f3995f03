#include "bin/commands/top_view.h"

#include <algorithm>
#include <cstdio>

#include "bin/commands/net_common.h"

namespace rustlog::cli {

using nlohmann::json;

namespace {

uint64_t u64(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<uint64_t>() : 0;
}
double dbl(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : 0.0;
}
std::string str(const json& j, const char* key) {
  const auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string("-");
}
const json& sub(const json& j, const char* key) {
  static const json kEmpty = json::object();
  const auto it = j.find(key);
  return it != j.end() && it->is_object() ? *it : kEmpty;
}
const json& list(const json& j, const char* key) {
  static const json kEmpty = json::array();
  const auto it = j.find(key);
  return it != j.end() && it->is_array() ? *it : kEmpty;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}
std::string rate(double v) { return v == 0 ? "0" : v >= 100 ? fmt("%.0f", v) : fmt("%.1f", v); }
std::string millis(const json& v) {
  if (!v.is_number()) return "-";
  const double d = v.get<double>();
  return d < 10 ? fmt("%.2f", d) : fmt("%.1f", d);
}
std::string duration(uint64_t s) {
  char buf[64];
  if (s >= 86400) std::snprintf(buf, sizeof buf, "%llud %lluh %llum", s / 86400ULL, s / 3600 % 24ULL, s / 60 % 60ULL);
  else if (s >= 3600) std::snprintf(buf, sizeof buf, "%lluh %llum %llus", s / 3600ULL, s / 60 % 60ULL, s % 60ULL);
  else if (s >= 60) std::snprintf(buf, sizeof buf, "%llum %llus", s / 60ULL, s % 60ULL);
  else std::snprintf(buf, sizeof buf, "%llus", static_cast<unsigned long long>(s));
  return buf;
}

// A table whose cells carry a style; columns padded to their widest cell,
// numbers right-aligned, two spaces between columns.
class StyledTable {
 public:
  StyledTable(std::vector<std::string> headers, std::vector<bool> right) : right_(std::move(right)) {
    Line h;
    for (auto& t : headers) h.push_back({std::move(t), Style::kHeader});
    rows_.push_back(std::move(h));
  }
  void add(Line row) { rows_.push_back(std::move(row)); }
  void append_to(std::vector<Line>& out) const {
    std::vector<size_t> w(right_.size(), 0);
    for (const auto& r : rows_)
      for (size_t i = 0; i < r.size() && i < w.size(); ++i) w[i] = std::max(w[i], display_width(r[i].text));
    for (const auto& r : rows_) {
      Line line;
      for (size_t i = 0; i < r.size() && i < w.size(); ++i) {
        const std::string pad(w[i] - display_width(r[i].text), ' ');
        if (i > 0) line.push_back({"  "});
        if (right_[i]) line.push_back({pad});
        line.push_back(r[i]);
        if (!right_[i] && i + 1 < r.size()) line.push_back({pad});
      }
      out.push_back(std::move(line));
    }
  }

 private:
  std::vector<bool> right_;
  std::vector<Line> rows_;
};

}  // namespace

size_t display_width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

bool LagTracker::observe(const std::string& group, const std::string& topic, uint32_t partition, uint64_t lag,
                         int64_t now_ms) {
  auto [it, fresh] = seen_.try_emplace({group, topic, partition});
  Seen& s = it->second;
  if (!fresh && lag > s.lag) s.grew_at = now_ms;
  s.lag = lag;
  return s.grew_at >= 0 && now_ms - s.grew_at < kHoldMs;
}

std::vector<Line> top_view(const json& doc, const TopContext& ctx, LagTracker& lags, int64_t now_ms) {
  std::vector<Line> out;
  const json& b = sub(doc, "broker");
  const json& t = sub(doc, "totals");
  const json& f = sub(doc, "fsync");
  const json& fr = sub(f, "recent");
  const json& r = sub(doc, "recovery");
  const json& conns = sub(doc, "connections");

  out.push_back({{"kafka-lite " + str(b, "version"), Style::kBold},
                 {"  listening on " + str(b, "listen") + "  up " + duration(u64(b, "uptime_seconds")) + "  flush " +
                  str(b, "flush") + "  data " + str(b, "data_dir")}});
  if (!ctx.error.empty()) out.push_back({{"broker unreachable: " + ctx.error + " (retrying; numbers below are the last ones seen)", Style::kError}});
  out.push_back({{"produce ", Style::kDim},
                 {rate(dbl(t, "records_in_per_sec")) + " rec/s " + human_bytes(static_cast<uint64_t>(dbl(t, "bytes_in_per_sec"))) + "/s"},
                 {"   fetch ", Style::kDim},
                 {rate(dbl(t, "records_out_per_sec")) + " rec/s " + human_bytes(static_cast<uint64_t>(dbl(t, "bytes_out_per_sec"))) + "/s"},
                 {"   fsync p50/p99 ", Style::kDim},
                 {u64(fr, "count") ? millis(fr.value("p50_ms", json())) + " / " + millis(fr.value("p99_ms", json())) + " ms" : "idle"},
                 {"   since start ", Style::kDim},
                 {u64(f, "count") ? millis(f.value("p50_ms", json())) + " / " + millis(f.value("p99_ms", json())) + " ms (" +
                                        std::to_string(u64(f, "count")) + " flushes, " + std::to_string(u64(f, "errors")) + " errors)"
                                  : "no flushes"}});
  const uint64_t read_only = u64(t, "read_only_partitions");
  uint64_t total_lag = 0;
  for (const auto& g : list(doc, "groups")) total_lag += u64(g, "total_lag");
  out.push_back({{"topics ", Style::kDim}, {std::to_string(u64(t, "topics"))},
                 {"  partitions ", Style::kDim}, {std::to_string(u64(t, "partitions"))},
                 {"  read-only ", Style::kDim}, {std::to_string(read_only), read_only ? Style::kReadOnly : Style::kPlain},
                 {"  on disk ", Style::kDim}, {human_bytes(u64(t, "size_bytes"))},
                 {"  groups ", Style::kDim}, {std::to_string(u64(t, "consumer_groups"))},
                 {"  total lag ", Style::kDim}, {std::to_string(total_lag)},
                 {"  connections ", Style::kDim}, {std::to_string(u64(conns, "open"))}});
  out.push_back({{"recovery ", Style::kDim},
                 {std::to_string(u64(r, "partitions")) + " partitions in " + millis(r.value("duration_ms", json())) + " ms, " +
                  human_bytes(u64(r, "scanned_bytes")) + " rescanned, " + human_bytes(u64(r, "truncated_bytes")) +
                  " truncated, " + std::to_string(u64(r, "indexes_rebuilt")) + " indexes rebuilt, " +
                  std::to_string(u64(r, "corrupt_ranges")) + " corrupt ranges"}});
  out.push_back({});

  StyledTable parts({"TOPIC", "PART", "LOG START", "HIGH WATERMARK", "RECORDS", "SIZE", "SEGS", "IN REC/S", "IN B/S",
                     "OUT REC/S", "OUT B/S", ""},
                    {false, true, true, true, true, true, true, true, true, true, true, false});
  size_t nparts = 0;
  for (const auto& topic : list(doc, "topics")) {
    const std::string name = str(topic, "name") + (topic.value("internal", false) ? " (internal)" : "");
    for (const auto& p : list(topic, "partitions")) {
      ++nparts;
      const bool ro = p.value("read_only", false);
      const Style s = ro ? Style::kReadOnly : Style::kPlain;
      parts.add({{name, s}, {std::to_string(u64(p, "partition")), s}, {std::to_string(u64(p, "log_start_offset")), s},
                 {std::to_string(u64(p, "high_watermark")), s}, {std::to_string(u64(p, "records")), s},
                 {human_bytes(u64(p, "size_bytes")), s}, {std::to_string(u64(p, "segments")), s},
                 {rate(dbl(p, "records_in_per_sec")), s}, {human_bytes(static_cast<uint64_t>(dbl(p, "bytes_in_per_sec"))), s},
                 {rate(dbl(p, "records_out_per_sec")), s}, {human_bytes(static_cast<uint64_t>(dbl(p, "bytes_out_per_sec"))), s},
                 {ro ? "READ-ONLY" : "", s}});
    }
  }
  if (nparts) parts.append_to(out);
  else out.push_back({{"no topics yet (rustlog topic create NAME)", Style::kDim}});
  out.push_back({});

  StyledTable groups({"GROUP", "TOPIC", "PART", "COMMITTED", "HIGH WATERMARK", "LAG"},
                     {false, false, true, true, true, true});
  size_t ngroups = 0;
  for (const auto& g : list(doc, "groups")) {
    const std::string gname = str(g, "group");
    for (const auto& o : list(g, "partitions")) {
      ++ngroups;
      const uint64_t lag = u64(o, "lag");
      const bool grew = lags.observe(gname, str(o, "topic"), static_cast<uint32_t>(u64(o, "partition")), lag, now_ms);
      groups.add({{gname}, {str(o, "topic")}, {std::to_string(u64(o, "partition"))}, {std::to_string(u64(o, "committed"))},
                  {std::to_string(u64(o, "high_watermark"))},
                  {std::to_string(lag) + (grew ? " ▲" : "  "), grew ? Style::kGrew : Style::kPlain}});
    }
  }
  if (ngroups) groups.append_to(out);
  else out.push_back({{"no consumer group has committed an offset yet", Style::kDim}});
  out.push_back({});
  out.push_back({{(ctx.interactive ? "q quit · " : "") + std::string("every ") + rate(ctx.interval_s) + " s from " + ctx.source +
                      " · rates over the last " + fmt("%.1f", dbl(sub(doc, "snapshot"), "window_ms") / 1000.0) +
                      " s · ▲ lag grew",
                  Style::kDim}});
  return out;
}

}  // namespace rustlog::cli
