#include "storage/log_cleaner.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "storage/cleaner_checkpoint.h"
#include "storage/cleaner_pass.h"

namespace rustlog {

namespace {
constexpr int kMaxBackoffShift = 5;  // retries back off up to 32x the first delay
}  // namespace

const char* cleaner_state_name(CleanerState s) {
  switch (s) {
    case CleanerState::kIdle: return "idle";
    case CleanerState::kCleaning: return "cleaning";
    case CleanerState::kUncleanable: return "uncleanable";
  }
  return "unknown";
}

LogCleaner::LogCleaner(CleanerOptions opt) : opt_(opt), map_(std::make_unique<CleanerKeyMap>()) {}

LogCleaner::~LogCleaner() {
  if (pass_) pass_->abandon();
}

Status LogCleaner::add_log(const std::string& name, PartitionLog* log) {
  Entry e;
  e.log = log;
  auto cp = read_cleaner_checkpoint(log->dir());
  if (!cp) return cp.status();
  e.first_dirty = cp->value_or(0);
  logs_[name] = e;
  return Status::ok();
}

void LogCleaner::remove_log(const std::string& name) {
  if (pass_ && pass_log_ == name) {
    pass_->abandon();
    pass_.reset();
    pass_log_.clear();
    ++counters_.passes_aborted;
  }
  logs_.erase(name);
}

size_t LogCleaner::uncleanable_partitions() const {
  size_t n = 0;
  for (const auto& [_, e] : logs_) n += e.state == CleanerState::kUncleanable;
  return n;
}

std::string LogCleaner::cleaning() const { return pass_ ? pass_log_ : std::string(); }

CleanerPartitionInfo LogCleaner::describe(const std::string& name, const Entry& e, int64_t now_us) const {
  CleanerPartitionInfo i;
  i.name = name;
  i.state = e.state;
  i.uncleanable_reason = e.reason;
  i.retry_at_us = e.retry_at_us;
  i.passes = e.passes;
  i.last_clean_us = e.last_clean_us;
  const DirtyRange r = dirty_range(segment_shapes(*e.log), e.first_dirty, now_us, e.log->config().compaction);
  i.first_dirty_offset = r.first_dirty;
  i.first_uncleanable_offset = r.first_uncleanable;
  i.clean_bytes = r.clean_bytes;
  i.cleanable_bytes = r.cleanable_bytes;
  i.lag_bytes = r.lag_bytes;
  i.dirty_ratio = r.ratio();
  return i;
}

std::optional<CleanerPartitionInfo> LogCleaner::info(const std::string& name, int64_t now_us) const {
  auto it = logs_.find(name);
  if (it == logs_.end()) return std::nullopt;
  return describe(it->first, it->second, now_us);
}

std::vector<CleanerPartitionInfo> LogCleaner::partitions(int64_t now_us) const {
  std::vector<CleanerPartitionInfo> v;
  v.reserve(logs_.size());
  for (const auto& [name, e] : logs_) v.push_back(describe(name, e, now_us));
  return v;
}

std::optional<std::string> LogCleaner::choose(int64_t now_us) {
  std::optional<std::string> best;
  bool best_overdue = false;
  double best_ratio = -1;
  for (auto& [name, e] : logs_) {
    const CompactionConfig& c = e.log->config().compaction;
    if (!c.enabled || e.log->read_only()) continue;
    if (e.state == CleanerState::kUncleanable && now_us < e.retry_at_us) continue;
    const DirtyRange r = dirty_range(segment_shapes(*e.log), e.first_dirty, now_us, c);
    if (!r.cleanable(c)) continue;
    // Overdue partitions first (max.compaction.lag.ms), then the dirtiest.
    const bool better = best ? (r.overdue != best_overdue ? r.overdue : r.ratio() > best_ratio) : true;
    if (better) {
      best = name;
      best_overdue = r.overdue;
      best_ratio = r.ratio();
    }
  }
  return best;
}

void LogCleaner::mark_uncleanable(const std::string& name, Entry& e, const Status& why, int64_t now_us) {
  e.state = CleanerState::kUncleanable;
  e.reason = why.message();
  const int64_t delay_us = (opt_.uncleanable_backoff_ms * 1000) << e.backoff_shift;
  e.retry_at_us = now_us + delay_us;
  e.backoff_shift = std::min(e.backoff_shift + 1, kMaxBackoffShift);
  ++counters_.uncleanable_events;
  spdlog::error("cleaner: partition {} is uncleanable ({}); its data is left as it is, retry in {} ms", name,
                e.reason, delay_us / 1000);
}

CleanerStep LogCleaner::step(uint64_t budget_bytes, int64_t now_us) {
  CleanerStep out;
  if (waiting_) return out;
  ++counters_.steps;
  budget_bytes = std::max<uint64_t>(budget_bytes, 1);
  if (!pass_) {
    auto name = choose(now_us);
    if (!name) {
      out.idle = true;
      return out;
    }
    Entry& e = logs_[*name];
    const DirtyRange r = dirty_range(segment_shapes(*e.log), e.first_dirty, now_us, e.log->config().compaction);
    pass_ = std::make_unique<CleanerPass>(e.log, map_.get(), opt_.buffer_bytes, r, now_us);
    pass_log_ = *name;
    e.state = CleanerState::kCleaning;
  }
  Status st = pass_->step(budget_bytes, &out, &counters_);
  after_work(std::move(st), out, now_us);
  return out;
}

CleanerStep LogCleaner::disk_wait_done(const Status& result, int64_t now_us) {
  CleanerStep out;
  if (!waiting_) return out;
  waiting_ = false;
  if (!pass_) return out;  // abandoned while the wait was out
  Status st = pass_->resume(result, &out, &counters_);
  after_work(std::move(st), out, now_us);
  return out;
}

void LogCleaner::after_work(Status st, CleanerStep& out, int64_t now_us) {
  // Inline: each disk wait and the part of the swap after it, here.
  while (st) {
    std::optional<DiskWait> w = pass_->take_disk_wait();
    if (!w) break;
    if (opt_.hand_out_disk_waits) {
      out.disk_wait = std::move(w);
      waiting_ = true;
      return;
    }
    st = pass_->resume((*w)(), &out, &counters_);
  }
  Entry& e = logs_[pass_log_];
  if (!st) {
    pass_->abandon();
    pass_.reset();
    ++counters_.passes_aborted;
    mark_uncleanable(pass_log_, e, st, now_us);
    pass_log_.clear();
    out.pass_done = true;
    return;
  }
  if (pass_->done()) {
    e.first_dirty = pass_->map_end();
    e.state = CleanerState::kIdle;
    e.reason.clear();
    e.backoff_shift = 0;
    ++e.passes;
    e.last_clean_us = now_us;
    ++counters_.passes_completed;
    pass_.reset();
    pass_log_.clear();
    out.pass_done = true;
  }
}

uint64_t LogCleaner::run_until_idle(int64_t now_us, uint64_t budget_bytes) {
  const uint64_t before = counters_.passes_completed;
  // Each pass strictly advances its partition's first dirty offset or
  // marks it uncleanable, so this ends.
  while (true) {
    CleanerStep s = step(budget_bytes, now_us);
    while (s.disk_wait) s = disk_wait_done((*s.disk_wait)(), now_us);
    if (s.idle) break;
  }
  return counters_.passes_completed - before;
}

}  // namespace rustlog
