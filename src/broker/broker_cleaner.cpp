// The log cleaner inside the event loop: at most one bounded LogCleaner step
// per loop turn (at most --cleaner-step-bytes read plus written), paced by
// --cleaner-max-bytes-per-sec, and --cleaner-backoff-ms of rest when no
// partition is cleanable. While clients keep the loop busy the cleaner takes
// --cleaner-busy-share-percent of its time; an idle loop cleans step after
// step. A swap's fsyncs run on the DiskWaitWorker; the pass goes on at the
// turn after each returned. Which partition, how a pass goes, and what makes a
// partition uncleanable is the cleaner's business (storage/log_cleaner.h);
// here: which logs it sees, when it runs, and what the metrics say.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <optional>
#include <filesystem>

#include "broker/broker.h"

namespace rustlog {

namespace {
// Clients that sent a request this recently keep the loop busy: the cleaner
// then takes only its share (--cleaner-busy-share-percent).
constexpr int64_t kClientsIdleUs = 1000;

std::string cleaner_name(const PartitionLog& log) {
  return std::filesystem::path(log.dir()).filename().string();  // "<topic>-<partition>"
}
}  // namespace

void Broker::start_cleaner() {
  CleanerOptions o;
  o.buffer_bytes = cfg_.cleaner_buffer_bytes;
  o.uncleanable_backoff_ms = static_cast<int64_t>(cfg_.cleaner_backoff_ms);
  o.hand_out_disk_waits = true;
  disk_waits_ = std::make_unique<DiskWaitWorker>();
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
  if (!cleaner_) return INT64_MAX;
  // Waiting for the disk: woken through cleaner_wake_fd() (or, without an
  // eventfd, polled every millisecond).
  if (cleaner_->waiting_for_disk()) return disk_waits_->busy() && cleaner_wake_fd() >= 0 ? INT64_MAX : 1;
  if (cleaner_logs_.empty()) return INT64_MAX;
  int64_t due_us = next_clean_us_;
  if (clients_busy(now_us)) due_us = std::max(due_us, std::min(next_share_us_, last_client_us_ + kClientsIdleUs));
  return due_us <= now_us ? 0 : (due_us - now_us + 999) / 1000;
}

bool Broker::clients_busy(int64_t now_us) const {
  return cfg_.cleaner_busy_share_percent < 100 && now_us - last_client_us_ < kClientsIdleUs;
}

void Broker::run_cleaner(int64_t now_us, bool clients_served) {
  if (clients_served) last_client_us_ = now_us;
  if (!cleaner_) return;
  // A swap's fsync returned on the worker: the pass goes on from there.
  if (cleaner_->waiting_for_disk()) {
    std::optional<Status> r = disk_waits_->take_result();
    if (r) resume_cleaner(*r, now_us);
    return;
  }
  if (cleaner_logs_.empty()) return;
  // What an earlier turn's swap took out of a log waits for no read of this
  // process now (reads copy within their turn): unlink it.
  if (purge_after_clean_) {
    purge_after_clean_ = false;
    for (const auto& [name, log] : cleaner_logs_)
      if (log->pending_deletes() > 0)
        if (Status st = log->purge_deleted(); !st) spdlog::warn("{}", st.message());
  }
  if (now_us < next_clean_us_) return;
  // While clients keep the loop busy, a step only when the cleaner's share
  // allows; an idle loop cleans step after step (one per turn, so a
  // request that arrives waits for one step at most).
  const bool busy = clients_busy(now_us);
  if (busy && now_us < next_share_us_) return;
  const CleanerCounters before = cleaner_->counters();
  const uint64_t size_before = cleaner_logs_size();
  const auto t0 = std::chrono::steady_clock::now();
  const CleanerStep s = cleaner_->step(cfg_.cleaner_step_bytes, now_us);
  note_cleaner_work(s, before, size_before, t0, now_us);
  // The share: from this step's start to the next busy step's start, its
  // duration / share.
  const int64_t took_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0).count();
  next_share_us_ = now_us + took_us * 100 / static_cast<int64_t>(cfg_.cleaner_busy_share_percent);
  if (s.idle) {
    next_clean_us_ = now_us + static_cast<int64_t>(cfg_.cleaner_backoff_ms) * 1000;
  } else if (cfg_.cleaner_max_bytes_per_sec > 0) {
    // Pacing: the next step waits as long as these bytes take at the cap.
    next_clean_us_ = now_us + static_cast<int64_t>(s.bytes * 1000000 / cfg_.cleaner_max_bytes_per_sec);
  } else {
    next_clean_us_ = now_us;  // the next turn
  }
}

void Broker::note_cleaner_work(CleanerStep s, const CleanerCounters& before, uint64_t size_before,
                               std::chrono::steady_clock::time_point t0, int64_t now_us) {
  if (!s.idle)
    metrics_.compaction_step_latency.record(static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now() - t0).count()));
  // The fsync it stopped at runs on the worker; the loop goes on.
  if (s.disk_wait) {
    metrics_.compaction_disk_waits.inc();
    metrics_.compaction_disk_wait_pending.set(1);
    disk_waits_->submit(std::move(*s.disk_wait));
  }
  const CleanerCounters& after = cleaner_->counters();
  metrics_.compaction_runs.inc(after.passes_completed - before.passes_completed);
  metrics_.compaction_records_removed.inc(after.records_removed - before.records_removed);
  metrics_.compaction_bytes_read.inc(after.bytes_read - before.bytes_read);
  metrics_.compaction_bytes_written.inc(after.bytes_written - before.bytes_written);
  metrics_.compaction_uncleanable_events.inc(after.uncleanable_events - before.uncleanable_events);
  // Nothing appends or expires during the call: what the logs lost, the swap took.
  const uint64_t size_after = cleaner_logs_size();
  if (size_after < size_before) metrics_.compaction_bytes_reclaimed.inc(size_before - size_after);
  if (s.swapped) {
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
}

void Broker::settle_cleaner(int64_t now_us) {
  while (cleaner_ && cleaner_->waiting_for_disk()) {
    std::optional<Status> r = disk_waits_->wait_result();
    if (!r) break;
    resume_cleaner(*r, now_us);
  }
}

void Broker::resume_cleaner(const Status& waited, int64_t now_us) {
  metrics_.compaction_disk_wait_pending.set(0);
  const CleanerCounters before = cleaner_->counters();
  const uint64_t size_before = cleaner_logs_size();
  const auto t0 = std::chrono::steady_clock::now();
  const CleanerStep s = cleaner_->disk_wait_done(waited, now_us);
  note_cleaner_work(s, before, size_before, t0, now_us);
}

int Broker::cleaner_wake_fd() const { return disk_waits_ ? disk_waits_->wake_fd() : -1; }

}  // namespace rustlog
