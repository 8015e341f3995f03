#include "metrics/status_json.h"

#include <nlohmann/json.hpp>

#ifndef RUSTLOG_VERSION
#define RUSTLOG_VERSION "unknown"
#endif

namespace rustlog {

namespace {

using nlohmann::json;

// A latency quantile in ms, null without samples.
json quantile_ms(const metrics::HistogramSnapshot& h, double q) {
  if (h.count() == 0) return nullptr;
  return h.quantile(q) / 1e6;
}

json latency(const metrics::HistogramSnapshot& h) {
  return {{"count", h.count()}, {"p50_ms", quantile_ms(h, 0.5)}, {"p99_ms", quantile_ms(h, 0.99)}};
}

json partition_json(const metrics::PartitionStats& p) {
  return {{"partition", p.partition},
          {"log_start_offset", p.log_start_offset},
          {"high_watermark", p.high_watermark},
          {"records", p.high_watermark - std::min(p.log_start_offset, p.high_watermark)},
          {"size_bytes", p.size_bytes},
          {"segments", p.segments},
          {"read_only", p.read_only},
          {"records_in", p.records_in},
          {"bytes_in", p.bytes_in},
          {"records_out", p.records_out},
          {"bytes_out", p.bytes_out},
          {"records_in_per_sec", p.records_in_per_sec},
          {"bytes_in_per_sec", p.bytes_in_per_sec},
          {"records_out_per_sec", p.records_out_per_sec},
          {"bytes_out_per_sec", p.bytes_out_per_sec}};
}

}  // namespace

std::string render_status_json(const BrokerMetrics& m, const BrokerIdentity& id, int64_t now_unix_ms) {
  const int64_t started = m.start_time_unix_ms.value();
  json doc;
  doc["broker"] = {{"version", RUSTLOG_VERSION},
                   {"listen", id.listen},
                   {"data_dir", id.data_dir},
                   {"flush", id.flush},
                   {"pid", id.pid},
                   {"start_time_unix_ms", started},
                   {"now_unix_ms", now_unix_ms},
                   {"uptime_seconds", started > 0 && now_unix_ms > started ? (now_unix_ms - started) / 1000 : 0}};
  doc["connections"] = {{"open", m.connections_open.value()},
                        {"accepted", m.connections_accepted.value()},
                        {"rejected", m.connections_rejected.value()}};
  doc["recovery"] = {{"duration_ms", static_cast<double>(m.recovery_duration_ns.value()) / 1e6},
                     {"partitions", m.recovery_partitions.value()},
                     {"scanned_bytes", m.recovery_scanned_bytes.value()},
                     {"truncated_bytes", m.recovery_truncated_bytes.value()},
                     {"indexes_rebuilt", m.recovery_indexes_rebuilt.value()},
                     {"corrupt_ranges", m.corruption_recovery.value()}};

  m.snapshots().read([&](const metrics::MetricsSnapshot* snap) {
    static const metrics::MetricsSnapshot kEmpty;
    const metrics::MetricsSnapshot& s = snap ? *snap : kEmpty;
    doc["snapshot"] = {{"taken_unix_ms", s.taken_unix_ms},
                       {"age_ms", s.taken_unix_ms > 0 ? now_unix_ms - s.taken_unix_ms : 0},
                       {"window_ms", s.window_ms}};

    json fsync = latency(m.fsync_latency.snapshot());
    fsync["errors"] = m.fsync_errors.value();
    fsync["recent"] = latency(s.fsync_recent);
    fsync["recent"]["window_ms"] = s.window_ms;
    doc["fsync"] = std::move(fsync);

    json topics = json::array();
    uint64_t read_only = 0, size = 0;
    double rin = 0, bin = 0, rout = 0, bout = 0;
    for (const auto& p : s.partitions) {
      if (topics.empty() || topics.back()["name"] != p.topic)
        topics.push_back({{"name", p.topic}, {"internal", p.internal}, {"partitions", json::array()}});
      topics.back()["partitions"].push_back(partition_json(p));
      read_only += p.read_only ? 1 : 0;
      size += p.size_bytes;
      rin += p.records_in_per_sec;
      bin += p.bytes_in_per_sec;
      rout += p.records_out_per_sec;
      bout += p.bytes_out_per_sec;
    }
    doc["totals"] = {{"topics", s.topics},
                     {"partitions", s.partitions.size()},
                     {"read_only_partitions", read_only},
                     {"size_bytes", size},
                     {"records_in_per_sec", rin},
                     {"bytes_in_per_sec", bin},
                     {"records_out_per_sec", rout},
                     {"bytes_out_per_sec", bout},
                     {"consumer_groups", 0}};
    doc["topics"] = std::move(topics);

    json groups = json::array();
    for (const auto& g : s.groups) {
      if (groups.empty() || groups.back()["group"] != g.group)
        groups.push_back({{"group", g.group}, {"total_lag", 0}, {"partitions", json::array()}});
      json& cur = groups.back();
      cur["partitions"].push_back({{"topic", g.topic},
                                   {"partition", g.partition},
                                   {"committed", g.committed},
                                   {"high_watermark", g.high_watermark},
                                   {"lag", g.lag}});
      cur["total_lag"] = cur["total_lag"].get<uint64_t>() + g.lag;
    }
    doc["totals"]["consumer_groups"] = groups.size();
    doc["groups"] = std::move(groups);
    return 0;
  });
  // Names are bytes from clients: invalid UTF-8 becomes U+FFFD, not an error.
  return doc.dump(-1, ' ', false, json::error_handler_t::replace) + "\n";
}

}  // namespace rustlog
