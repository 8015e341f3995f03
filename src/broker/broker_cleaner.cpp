// The log cleaner inside the event loop: one bounded LogCleaner step per
// loop turn (at most --cleaner-step-bytes read plus written), paced by
// --cleaner-max-bytes-per-sec, and --cleaner-backoff-ms of rest when no
// partition is cleanable. Which partition, how a pass goes, and what makes a
// partition uncleanable is the cleaner's business (storage/log_cleaner.h);
// here: which logs it sees, when it runs, and what the metrics say.
#include <spdlog/spdlog.h>

#include <chrono>
#include <filesystem>

#include "broker/broker.h"

namespace rustlog {

namespace {
std::string cleaner_name(const PartitionLog& log) {
  return std::filesystem::path(log.dir()).filename().string();  // "<topic>-<partition>"
}
}  // namespace

void Broker::start_cleaner() {
  CleanerOptions o;
  o.buffer_bytes = cfg_.cleaner_buffer_bytes;
  o.uncleanable_backoff_ms = static_cast<int64_t>(cfg_.cleaner_backoff_ms);
  cleaner_ = std::make_unique<LogCleaner>(o);
}

void Broker::cleaner_track(const Topic& t) {
  if (!cleaner_ || !t.config.compacts()) return;
  for (const auto& p : t.partitions) {
    const std::string name = cleaner_name(*p);
    if (cleaner_->has_log(name)) continue;
    if (Status st = cleaner_->add_log(name, p.get()); !st) {
      // Without its checkpoint the partition is not cleaned; it is served as it is.
      spdlog::error("cleaner: cannot clean {}: {}", name, st.message());
      continue;
    }
    cleaner_logs_[name] = p.get();
  }
  next_clean_us_ = 0;  // a new compacted partition may be cleanable at once
}

void Broker::cleaner_forget(const PartitionLog* log) {
  for (auto it = cleaner_logs_.begin(); it != cleaner_logs_.end(); ++it)
    if (it->second == log) {
      cleaner_->remove_log(it->first);
      cleaner_logs_.erase(it);
      return;
    }
}

uint64_t Broker::cleaner_logs_size() const {
  uint64_t n = 0;
  for (const auto& [name, log] : cleaner_logs_) n += log->size_bytes();
  return n;
}

int64_t Broker::cleaner_due_in_ms(int64_t now_us) const {
  if (!cleaner_ || cleaner_logs_.empty()) return INT64_MAX;
  return next_clean_us_ <= now_us ? 0 : (next_clean_us_ - now_us + 999) / 1000;
}

void Broker::run_cleaner(int64_t now_us) {
  if (!cleaner_ || cleaner_logs_.empty()) return;
  // What an earlier turn's swap took out of a log waits for no read of this
  // process now (reads copy within their turn): unlink it.
  if (purge_after_clean_) {
    purge_after_clean_ = false;
    for (const auto& [name, log] : cleaner_logs_)
      if (log->pending_deletes() > 0)
        if (Status st = log->purge_deleted(); !st) spdlog::warn("{}", st.message());
  }
  if (now_us < next_clean_us_) return;
  const CleanerCounters before = cleaner_->counters();
  const uint64_t size_before = cleaner_logs_size();
  const auto t0 = std::chrono::steady_clock::now();
  const CleanerStep s = cleaner_->step(cfg_.cleaner_step_bytes, now_us);
  if (!s.idle)
    metrics_.compaction_step_latency.record(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count()));
  const CleanerCounters& after = cleaner_->counters();
  metrics_.compaction_runs.inc(after.passes_completed - before.passes_completed);
  metrics_.compaction_records_removed.inc(after.records_removed - before.records_removed);
  metrics_.compaction_bytes_read.inc(after.bytes_read - before.bytes_read);
  metrics_.compaction_bytes_written.inc(after.bytes_written - before.bytes_written);
  metrics_.compaction_uncleanable_events.inc(after.uncleanable_events - before.uncleanable_events);
  if (s.swapped) {
    const uint64_t size_after = cleaner_logs_size();  // nothing appends during a step
    if (size_after < size_before) metrics_.compaction_bytes_reclaimed.inc(size_before - size_after);
    purge_after_clean_ = true;
    metrics_dirty_ = true;
  }
  if (s.pass_done && after.passes_completed > before.passes_completed) {
    // The partition whose pass just ended: the one cleaned at this instant.
    std::string name = "?";
    for (const auto& info : cleaner_->partitions(now_us))
      if (info.last_clean_us == now_us) name = info.name;
    spdlog::info("cleaner: cleaned {}: {} records removed, {} bytes read, {} bytes written in this pass", name,
                 after.records_removed - pass_start_.records_removed, after.bytes_read - pass_start_.bytes_read,
                 after.bytes_written - pass_start_.bytes_written);
  }
  if (s.pass_done) pass_start_ = after;
  if (s.idle) {
    next_clean_us_ = now_us + static_cast<int64_t>(cfg_.cleaner_backoff_ms) * 1000;
  } else if (cfg_.cleaner_max_bytes_per_sec > 0) {
    // Pacing: the next step waits as long as these bytes take at the cap.
    next_clean_us_ = now_us + static_cast<int64_t>(s.bytes * 1000000 / cfg_.cleaner_max_bytes_per_sec);
  } else {
    next_clean_us_ = now_us;  // the next turn
  }
}

}  // namespace rustlog
