#pragma once
// Metrics that describe broker state which comes and goes (topics,
// partitions, consumer groups) cannot be fixed atomics: the event loop owns
// that state and no other thread may touch it. Instead the loop builds a
// MetricsSnapshot (a plain copy of the numbers) from time to time and
// publishes it through a SnapshotCell; the HTTP thread renders whatever
// snapshot is current.
//
// SnapshotCell is a single-writer, lock-free hand-over (a minimal RCU): the
// writer swaps in a new immutable object with one atomic exchange; a reader
// announces itself in a counter, loads the pointer and reads. The writer
// frees a replaced object only once it has seen the reader count at zero
// after the exchange (every reader that arrives later loads the new
// pointer). Neither side ever blocks or waits for the other; old objects just
// live until a publish finds no reader in the middle of a read.
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "metrics/histogram.h"

namespace rustlog::metrics {

// One topic-partition, as of the snapshot.
struct PartitionStats {
  std::string topic;
  uint32_t partition = 0;
  uint64_t records_in = 0;   // records appended by produce requests
  uint64_t bytes_in = 0;     // record-batch bytes appended (as stored in the log)
  uint64_t records_out = 0;  // records returned by fetches
  uint64_t bytes_out = 0;    // record-batch bytes read from the log to answer fetches
  uint64_t high_watermark = 0;  // next offset readable by consumers (durable end under flush=always)
  uint64_t log_start_offset = 0;
  uint64_t size_bytes = 0;  // bytes of segment files
  uint64_t segments = 0;
  bool read_only = false;  // a fatal I/O error turned it read-only until restart
  bool internal = false;   // an internal topic ("__" prefix)
  // Compaction (cleanup.policy includes compact): the cleaner's view.
  bool compacted = false;
  double dirty_ratio = 0;          // dirty / (clean + dirty) bytes of sealed segments
  uint64_t cleaner_lag_bytes = 0;  // bytes no pass has covered yet
  std::string cleaner_state;       // idle, cleaning, uncleanable
  // The counters above per second over the last few seconds
  // (MetricsSnapshot::window_ms; 0 until a window exists).
  double records_in_per_sec = 0;
  double bytes_in_per_sec = 0;
  double records_out_per_sec = 0;
  double bytes_out_per_sec = 0;
};

// One committed offset of a consumer group.
struct GroupOffsetStats {
  std::string group;
  std::string topic;
  uint32_t partition = 0;
  uint64_t committed = 0;
  uint64_t high_watermark = 0;
  uint64_t lag = 0;  // high_watermark - committed (0 when committed is ahead)
};

struct MetricsSnapshot {
  int64_t taken_unix_ms = 0;
  // The trailing window the rates and fsync_recent cover (about 5 s once the
  // broker has run that long; 0 in the first snapshot).
  int64_t window_ms = 0;
  HistogramSnapshot fsync_recent;  // partition-log flushes finished in that window
  uint64_t topics = 0;  // including internal topics
  std::vector<PartitionStats> partitions;  // ordered by topic, then partition
  std::vector<GroupOffsetStats> groups;    // ordered by group, topic, partition
};

template <typename T>
class SnapshotCell {
 public:
  SnapshotCell() = default;
  SnapshotCell(const SnapshotCell&) = delete;
  SnapshotCell& operator=(const SnapshotCell&) = delete;
  // No reader may be inside read() any more.
  ~SnapshotCell() {
    delete current_.load(std::memory_order_acquire);
    for (T* p : retired_) delete p;
  }

  // Writer side: one thread only.
  void publish(std::unique_ptr<T> next) {
    T* old = current_.exchange(next.release(), std::memory_order_seq_cst);
    if (old) retired_.push_back(old);
    reclaim();
  }
  // Frees replaced objects if no reader is inside read() (writer side).
  void reclaim() {
    if (retired_.empty() || readers_.load(std::memory_order_seq_cst) != 0) return;
    for (T* p : retired_) delete p;
    retired_.clear();
  }
  // Objects replaced but not yet freed (for tests).
  size_t retired() const { return retired_.size(); }

  // Reader side: any thread. Calls f(const T*) (nullptr before the first
  // publish) and returns what it returns. The object stays valid during f.
  template <typename F>
  auto read(F&& f) const {
    struct Exit {
      std::atomic<uint32_t>& r;
      ~Exit() { r.fetch_sub(1, std::memory_order_release); }
    } exit{readers_};
    readers_.fetch_add(1, std::memory_order_seq_cst);
    const T* p = current_.load(std::memory_order_seq_cst);
    return std::forward<F>(f)(p);
  }

 private:
  std::atomic<T*> current_{nullptr};
  mutable std::atomic<uint32_t> readers_{0};
  std::vector<T*> retired_;  // writer only
};

}  // namespace rustlog::metrics
