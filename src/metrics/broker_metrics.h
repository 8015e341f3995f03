#pragma once
// Every metric the broker exports (docs/OPERATIONS.md, "Metrics reference").
//
// Fixed metrics are registered here at startup: relaxed atomic counters,
// gauges and histograms, with per-request-type arrays indexed by the type
// byte. Recording one is an array index and an atomic add: no lock, no
// allocation, so it happens on the request path. Most are written by the
// event-loop thread only; the fsync histogram is also written by the sync
// workers, which is fine for atomics.
//
// Metrics about state that comes and goes (partitions, groups) arrive as a
// MetricsSnapshot that the event loop publishes (see snapshot.h).
//
// render() produces the Prometheus text from the atomics and the current
// snapshot. It is the only reader and may run on any thread: the HTTP
// endpoint's thread for /metrics, the loop for MetricsFetch (0x09), so both
// give the same text.
#include <array>
#include <cstdint>
#include <string>

#include "metrics/counter.h"
#include "metrics/histogram.h"
#include "metrics/snapshot.h"
#include "metrics/trailing.h"
#include "common/status.h"

namespace rustlog {

// Per-partition traffic counters: one per partition, allocated when the
// partition appears (never on the request path), owned by the broker and
// written by the event loop; copied into each snapshot.
struct PartitionCounters {
  metrics::Counter records_in, bytes_in, records_out, bytes_out;
  uint64_t flushed_size = 0;  // loop only: size_bytes() at the last group-commit flush
  // Loop only: the four counters (in the order above) over the last seconds,
  // for the snapshot's rates.
  metrics::Trailing<std::array<uint64_t, 4>> recent;
};

class BrokerMetrics {
 public:
  // Request types get a slot each (the ones the protocol defines); any other
  // type byte counts in the last slot, rendered as type="Unknown".
  static constexpr size_t kTypeSlots = 22;
  // One slot per protocol error code, the last for codes not listed.
  static constexpr size_t kCodeSlots = 11;

  BrokerMetrics();
  BrokerMetrics(const BrokerMetrics&) = delete;
  BrokerMetrics& operator=(const BrokerMetrics&) = delete;

  // ---- per request type (hot path)
  void on_request(uint8_t type) noexcept { types_[type_slot(type)].requests.inc(); }
  // An Error response with this code; 502 also counts as a corruption event.
  void on_error(uint8_t type, ErrorCode code) noexcept {
    types_[type_slot(type)].errors[code_slot(code)].inc();
    if (code == ErrorCode::kCorruptRecord) corruption_read.inc();
  }
  // From the request's decoding to its response being ready to send.
  void on_response(uint8_t type, uint64_t latency_ns) noexcept { types_[type_slot(type)].latency.record(latency_ns); }

  uint64_t requests(uint8_t type) const { return types_[type_slot(type)].requests.value(); }
  uint64_t errors(uint8_t type, ErrorCode code) const { return types_[type_slot(type)].errors[code_slot(code)].value(); }
  metrics::HistogramSnapshot latency(uint8_t type) const { return types_[type_slot(type)].latency.snapshot(); }

  // ---- connections
  metrics::Gauge connections_open;
  metrics::Counter connections_accepted;
  metrics::Counter connections_rejected;        // over --max-connections
  metrics::Counter connections_protocol_errors; // closed for a framing violation
  metrics::Counter connections_idle_closed;     // held a partial frame past --partial-frame-timeout-ms
  metrics::Counter accept_fd_exhausted;         // accept() failed with EMFILE/ENFILE

  // ---- limits (each time one is reached)
  metrics::Counter output_budget_waits;         // a connection's answers reached --max-connection-output-bytes
  metrics::Counter output_stalls;               // a socket refused a connection's answers with 65,536 unsent
  metrics::Counter output_global_waits;         // all answers reached --max-output-bytes
  metrics::Counter input_budget_waits;          // partial frames reached --max-input-bytes
  metrics::Counter turn_budget_hits;            // a connection used its turn (requests, time or answer bytes)
  metrics::Counter turn_write_budget_hits;      // a connection's sends waited: the turn reached --max-turn-write-bytes
  metrics::Counter segment_floor_refusals;      // CreateTopic below --min-segment-bytes / --min-segment-ms
  metrics::Counter partition_limit_refusals;    // CreateTopic above --max-partitions
  metrics::Counter admin_steps;                 // loop-turn steps of topic creates and deletes
  metrics::Gauge output_bytes;                  // answer bytes reserved now (queued + unsent)
  metrics::Gauge input_bytes;                   // request bytes buffered now
  // Sealed segments' .log descriptors (--max-open-segment-files), copied from
  // the segment cache on the loop's tick.
  metrics::Gauge segment_files_open;
  metrics::Counter segment_file_opens;      // lazy reopens of a sealed segment's log
  metrics::Counter segment_file_evictions;  // descriptors closed past the cap

  // ---- produce / fetch
  metrics::CountHistogram produce_batch_records;
  metrics::BytesHistogram produce_batch_bytes;
  metrics::Counter fetch_parked;  // long-poll fetches that had to wait
  metrics::Counter fetch_parked_refused;  // answered at once: the parked limits were reached
  metrics::Gauge fetch_parked_now;        // long polls waiting now
  metrics::Counter fetch_slices;          // slices read by fetches answered over several loop turns

  // ---- durability (fsync_* written by the sync workers as well)
  alignas(64) metrics::LatencyHistogram fsync_latency;  // one per PartitionLog::flush
  metrics::Counter fsync_errors;
  alignas(64) metrics::CountHistogram group_commit_requests;   // responses released per flush round
  metrics::BytesHistogram group_commit_bytes;                  // bytes made durable per flush round
  metrics::CountHistogram group_commit_partitions;             // partitions synced per flush round

  // ---- recovery (set once at start) and corruption
  metrics::Gauge recovery_duration_ns;
  metrics::Counter recovery_partitions;
  metrics::Counter recovery_scanned_bytes;
  metrics::Counter recovery_truncated_bytes;
  metrics::Counter recovery_indexes_rebuilt;
  metrics::Counter corruption_recovery;  // corrupt ranges found by recovery
  metrics::Counter corruption_read;      // reads that failed a CRC check (Error 502)

  // ---- retention, compaction (fed by the loop's tick) and offset expiry
  metrics::Counter retention_segments_deleted;
  metrics::Counter retention_bytes_deleted;
  metrics::Counter compaction_runs;
  metrics::Counter compaction_records_removed;
  metrics::Counter compaction_bytes_reclaimed;
  metrics::Counter compaction_bytes_read;          // key-map building and recopying
  metrics::Counter compaction_bytes_written;       // cleaned segment files
  metrics::Counter compaction_uncleanable_events;  // passes that marked a partition uncleanable
  metrics::LatencyHistogram compaction_step_latency;  // one per LogCleaner::step that did work (ns)
  metrics::Counter compaction_disk_waits;           // swap fsyncs handed to the disk-wait worker
  metrics::Gauge compaction_disk_wait_pending;      // 1 while one runs there
  metrics::Counter offsets_expired;  // committed offsets tombstoned by --offsets-retention-ms

  metrics::Gauge start_time_unix_ms;

  // Partition and group state, published by the event loop.
  metrics::SnapshotCell<metrics::MetricsSnapshot>& snapshots() { return snapshots_; }
  const metrics::SnapshotCell<metrics::MetricsSnapshot>& snapshots() const { return snapshots_; }

  // The Prometheus text exposition of everything above (any thread).
  std::string render() const;

  static size_t type_slot(uint8_t type) noexcept { return kTypeSlot[type]; }
  static size_t code_slot(ErrorCode code) noexcept;

 private:
  struct PerType {
    metrics::Counter requests;
    std::array<metrics::Counter, kCodeSlots> errors;
    metrics::LatencyHistogram latency;
  };
  static const std::array<uint8_t, 256> kTypeSlot;

  std::array<PerType, kTypeSlots> types_;
  metrics::SnapshotCell<metrics::MetricsSnapshot> snapshots_;
};

// The error codes behind code_slot() (the last slot: any other code).
extern const std::array<ErrorCode, BrokerMetrics::kCodeSlots - 1> kMetricErrorCodes;

}  // namespace rustlog
