#pragma once
// Group commit across partitions: each partition is its own file, so one
// loop turn that appended to N partitions needs N fdatasyncs. Run one after
// another they cost N x the disk's sync latency; issued together, the
// filesystem commits them in one journal transaction (measured on ext4:
// 4 concurrent fdatasyncs cost about one; see docs/DESIGN_DECISIONS.md).
//
// The event loop hands the logs to a fixed set of sync workers and waits for
// all of them: processing stays synchronous (nothing is acknowledged and no
// other request runs until every sync returned) and the workers touch
// nothing but the logs they were handed, which the loop does not touch
// while it waits. The hand-off uses atomics (futex wait/notify), no locks.
#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "metrics/broker_metrics.h"
#include "storage/partition_log.h"

namespace rustlog {

class ParallelFlusher {
 public:
  // Each flush's duration and failure go to `metrics` (when given), from
  // whichever thread ran it: the histogram is atomic.
  explicit ParallelFlusher(unsigned workers, BrokerMetrics* metrics = nullptr);
  ~ParallelFlusher();
  ParallelFlusher(const ParallelFlusher&) = delete;
  ParallelFlusher& operator=(const ParallelFlusher&) = delete;

  // Flushes every log (distinct pointers); returns when all are done. Each
  // log records its own failure (PartitionLog::read_only()).
  void flush_all(const std::vector<PartitionLog*>& logs);

 private:
  void worker_main();
  void flush_one(PartitionLog* log);

  BrokerMetrics* metrics_;
  std::vector<std::thread> threads_;
  const std::vector<PartitionLog*>* batch_ = nullptr;
  std::atomic<uint64_t> generation_{0};
  std::atomic<size_t> next_{0};
  std::atomic<size_t> remaining_{0};
  std::atomic<bool> stop_{false};
};

}  // namespace rustlog
