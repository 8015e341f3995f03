#include "broker/group_commit.h"

#include <algorithm>

namespace rustlog {

GroupCommit::GroupCommit(unsigned sync_workers, BrokerMetrics* metrics) : flusher_(sync_workers, metrics) {}

void GroupCommit::note_appended(PartitionLog* log) {
  if (std::find(dirty_.begin(), dirty_.end(), log) == dirty_.end()) dirty_.push_back(log);
}

void GroupCommit::forget(const PartitionLog* log) {
  dirty_.erase(std::remove(dirty_.begin(), dirty_.end(), log), dirty_.end());
}

std::vector<PartitionLog*> GroupCommit::commit(int64_t now_ms, bool all) {
  std::vector<PartitionLog*> due;
  for (PartitionLog* log : dirty_)
    if (!log->read_only() && (log->flush_due(now_ms) || (all && log->has_unflushed()))) due.push_back(log);
  flusher_.flush_all(due);  // concurrently: one journal commit covers them all
  // Keep only logs that still owe a flush their policy will ask for.
  std::erase_if(dirty_, [](const PartitionLog* log) {
    return !log->has_unflushed() || log->read_only() || log->config().flush.kind == FlushPolicy::Kind::kNever;
  });
  return due;
}

int64_t GroupCommit::due_in_ms(int64_t /*now_ms*/, int64_t cap) const {
  int64_t t = cap;
  for (const PartitionLog* l : dirty_) {
    if (l->config().flush.kind == FlushPolicy::Kind::kAlways) return 0;
    if (l->config().flush.kind == FlushPolicy::Kind::kInterval)
      t = std::min<int64_t>(t, l->config().flush.interval_ms);
  }
  return t;
}

}  // namespace rustlog
