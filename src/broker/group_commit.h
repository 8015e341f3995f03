#pragma once
// Group commit: the logs that took appends are flushed once per loop turn
// (when their flush policy says so), however many requests appended to them,
// and concurrently (ParallelFlusher). The broker notes each append; the loop
// calls commit() once a turn; deleted logs are forgotten before they are
// freed. Which requests wait for which flush is not known here: a waiting
// answer holds a FlushTicket and asks the broker whether it is durable.
#include <cstdint>
#include <vector>

#include "broker/parallel_flush.h"
#include "metrics/broker_metrics.h"
#include "storage/partition_log.h"

namespace rustlog {

class GroupCommit {
 public:
  GroupCommit(unsigned sync_workers, BrokerMetrics* metrics);

  // `log` took an append (each log is remembered once).
  void note_appended(PartitionLog* log);
  // `log` is about to be destroyed: never flush it.
  void forget(const PartitionLog* log);
  // Flushes every remembered log whose policy makes it due at `now_ms` (the
  // append clock), or every one with unflushed data when `all`. Returns the
  // logs flushed (failures are recorded in each log: read_only()).
  std::vector<PartitionLog*> commit(int64_t now_ms, bool all);
  // Milliseconds until an interval-flushed log is due (cap when none is).
  int64_t due_in_ms(int64_t now_ms, int64_t cap) const;

 private:
  std::vector<PartitionLog*> dirty_;
  ParallelFlusher flusher_;
};

}  // namespace rustlog
