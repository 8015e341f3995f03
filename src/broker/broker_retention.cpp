// Broker::tick: the periodic storage work of the event loop (time-based
// rolls, retention, offset expiry). Everything runs on the loop thread in bounded steps.
#include <spdlog/spdlog.h>

#include "broker/broker.h"

namespace rustlog {

namespace {
constexpr int64_t kRollCheckUs = 1000 * 1000;  // segment.ms is checked once a second
}  // namespace

void Broker::tick(int64_t now_us, bool clients_served) {
  if (!registry_) return;
  const SegmentCache& cache = registry_->segment_cache();
  metrics_.segment_files_open.set(static_cast<int64_t>(cache.open_files()));
  metrics_.segment_file_opens.inc(cache.file_opens() - metrics_.segment_file_opens.value());
  metrics_.segment_file_evictions.inc(cache.file_evictions() - metrics_.segment_file_evictions.value());
  if (now_us >= next_roll_check_us_) {
    next_roll_check_us_ = now_us + kRollCheckUs;
    for (const auto& [name, t] : registry_->topics())
      for (const auto& p : t->partitions) {
        auto r = p->roll_if_due(now_us);
        if (!r) spdlog::warn("{}: time-based roll failed: {}", p->dir(), r.status().message());
        else if (*r) metrics_dirty_ = true;
      }
  }
  if (now_us >= next_retention_us_) {
    next_retention_us_ = now_us + static_cast<int64_t>(cfg_.retention_check_interval_ms) * 1000;
    run_retention(now_us);
  }
  expire_offsets(now_us);
  run_cleaner(now_us, clients_served);
}

void Broker::run_retention(int64_t now_us) {
  for (const auto& [name, t] : registry_->topics()) {
    for (const auto& p : t->partitions) {
      // What an earlier tick took out of the log: no read of this process
      // holds its bytes any more (reads copy within their turn).
      if (Status st = p->purge_deleted(); !st) spdlog::warn("{}", st.message());
      if (!t->config.deletes() || p->read_only()) continue;
      auto r = p->apply_retention(now_us);
      if (!r) {
        spdlog::error("{}: retention failed: {}", p->dir(), r.status().message());
        continue;
      }
      if (r->segments_deleted == 0) continue;
      metrics_.retention_segments_deleted.inc(r->segments_deleted);
      metrics_.retention_bytes_deleted.inc(r->bytes_deleted);
      metrics_dirty_ = true;
      spdlog::info("{}: retention deleted {} segments ({} bytes); log start is now {}", p->dir(),
                   r->segments_deleted, r->bytes_deleted, p->log_start_offset());
    }
  }
}

}  // namespace rustlog
