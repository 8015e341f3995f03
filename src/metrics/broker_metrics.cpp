#include "metrics/broker_metrics.h"

#include <cstdlib>

#include "metrics/exposition.h"
#include "protocol/message_type.h"

#ifndef RUSTLOG_VERSION
#define RUSTLOG_VERSION "unknown"
#endif

namespace rustlog {

using metrics::ExpositionWriter;

const std::array<ErrorCode, BrokerMetrics::kCodeSlots - 1> kMetricErrorCodes = {
    ErrorCode::kInvalidRequest, ErrorCode::kTopicNotFound,   ErrorCode::kPartitionNotFound,
    ErrorCode::kTopicExists,    ErrorCode::kTooLarge,        ErrorCode::kOffsetOutOfRange,
    ErrorCode::kInternal,       ErrorCode::kCorruptRecord,   ErrorCode::kStorageError,
    ErrorCode::kInsufficientSpace,
};

namespace {

constexpr size_t kUnknownSlot = BrokerMetrics::kTypeSlots - 1;

std::array<uint8_t, 256> make_type_slots() {
  std::array<uint8_t, 256> slots;
  slots.fill(static_cast<uint8_t>(kUnknownSlot));
  const auto types = protocol::supported_request_types();
  if (types.size() > kUnknownSlot) std::abort();  // BrokerMetrics::kTypeSlots must grow with the protocol
  for (size_t i = 0; i < types.size(); ++i) slots[static_cast<uint8_t>(types[i])] = static_cast<uint8_t>(i);
  return slots;
}

// The label of a type slot.
const char* slot_type_name(size_t slot) {
  const auto types = protocol::supported_request_types();
  return slot < types.size() ? protocol::message_type_name(types[slot]) : "Unknown";
}

std::string code_label(size_t code_slot) {
  return code_slot < kMetricErrorCodes.size() ? std::to_string(static_cast<unsigned>(kMetricErrorCodes[code_slot]))
                                              : std::string("other");
}

}  // namespace

const std::array<uint8_t, 256> BrokerMetrics::kTypeSlot = make_type_slots();

BrokerMetrics::BrokerMetrics() = default;

size_t BrokerMetrics::code_slot(ErrorCode code) noexcept {
  switch (code) {
    case ErrorCode::kInvalidRequest: return 0;
    case ErrorCode::kTopicNotFound: return 1;
    case ErrorCode::kPartitionNotFound: return 2;
    case ErrorCode::kTopicExists: return 3;
    case ErrorCode::kTooLarge: return 4;
    case ErrorCode::kOffsetOutOfRange: return 5;
    case ErrorCode::kInternal: return 6;
    case ErrorCode::kCorruptRecord: return 7;
    case ErrorCode::kStorageError: return 8;
    case ErrorCode::kInsufficientSpace: return 9;
    default: return kCodeSlots - 1;
  }
}

std::string BrokerMetrics::render() const {
  std::string out;
  out.reserve(64 * 1024);
  ExpositionWriter w(out);
  const auto u = [](int64_t v) { return static_cast<uint64_t>(v < 0 ? 0 : v); };

  // ---------------------------------------------------------------- requests
  w.family("rustlog_requests_total", "counter", "Requests received, by request type.");
  for (size_t s = 0; s < kTypeSlots; ++s) w.sample("rustlog_requests_total", {{"type", slot_type_name(s)}}, types_[s].requests.value());

  w.family("rustlog_request_errors_total", "counter",
           "Requests answered with an Error response, by request type and error code (docs/PROTOCOL.md). "
           "A series appears at its first error.");
  for (size_t s = 0; s < kTypeSlots; ++s)
    for (size_t c = 0; c < kCodeSlots; ++c)
      if (const uint64_t v = types_[s].errors[c].value())
        w.sample("rustlog_request_errors_total", {{"type", slot_type_name(s)}, {"code", code_label(c)}}, v);

  w.family("rustlog_request_duration_seconds", "histogram",
           "Time from a request's decoding to its response being ready to send, by request type: includes "
           "the group-commit fsync for acknowledged writes and the wait of long-poll fetches. A series "
           "appears at the type's first request.");
  for (size_t s = 0; s < kTypeSlots; ++s) {
    const metrics::HistogramSnapshot h = types_[s].latency.snapshot();
    if (h.count() > 0) w.histogram("rustlog_request_duration_seconds", {{"type", slot_type_name(s)}}, h, 9);
  }

  // ------------------------------------------------------------- connections
  w.family("rustlog_connections_open", "gauge", "Client connections open now.");
  w.sample("rustlog_connections_open", {}, connections_open.value());
  w.family("rustlog_connections_accepted_total", "counter", "Client connections accepted.");
  w.sample("rustlog_connections_accepted_total", {}, connections_accepted.value());
  w.family("rustlog_connections_rejected_total", "counter",
           "Client connections closed at once because --max-connections were open.");
  w.sample("rustlog_connections_rejected_total", {}, connections_rejected.value());
  w.family("rustlog_connections_protocol_errors_total", "counter",
           "Client connections closed for a protocol violation (a frame length of 0 or above --max-frame-bytes).");
  w.sample("rustlog_connections_protocol_errors_total", {}, connections_protocol_errors.value());
  w.family("rustlog_connections_idle_closed_total", "counter",
           "Client connections closed because they held an incomplete frame longer than "
           "--partial-frame-timeout-ms.");
  w.sample("rustlog_connections_idle_closed_total", {}, connections_idle_closed.value());
  w.family("rustlog_accept_fd_exhausted_total", "counter",
           "Times accept() found no file descriptor left (EMFILE/ENFILE); the pending client was "
           "accepted on the reserve descriptor and closed, and accepting backed off.");
  w.sample("rustlog_accept_fd_exhausted_total", {}, accept_fd_exhausted.value());

  // ------------------------------------------------------------------ limits
  w.family("rustlog_segment_files_open", "gauge",
           "Sealed segments whose .log descriptor is open now (at most --max-open-segment-files; "
           "active segments are not counted).");
  w.sample("rustlog_segment_files_open", {}, segment_files_open.value());
  w.family("rustlog_segment_file_opens_total", "counter",
           "Times a sealed segment's .log file was reopened for a read after its descriptor had "
           "been closed (a high rate means --max-open-segment-files is small for the read pattern).");
  w.sample("rustlog_segment_file_opens_total", {}, segment_file_opens.value());
  w.family("rustlog_segment_file_evictions_total", "counter",
           "Sealed segments' .log descriptors closed because more than --max-open-segment-files were open.");
  w.sample("rustlog_segment_file_evictions_total", {}, segment_file_evictions.value());
  w.family("rustlog_output_budget_waits_total", "counter",
           "Times a connection's queued and unsent answers reached --max-connection-output-bytes "
           "(its requests are not read until they drain).");
  w.sample("rustlog_output_budget_waits_total", {}, output_budget_waits.value());
  w.family("rustlog_output_stalls_total", "counter",
           "Times a connection stopped being read because its socket refused its answers while 65,536 "
           "of them waited unsent (a client that does not read its answers); it is read again once "
           "the socket has taken them all.");
  w.sample("rustlog_output_stalls_total", {}, output_stalls.value());
  w.family("rustlog_output_global_waits_total", "counter",
           "Times a request waited because all connections' answers reached --max-output-bytes.");
  w.sample("rustlog_output_global_waits_total", {}, output_global_waits.value());
  w.family("rustlog_input_budget_waits_total", "counter",
           "Times a connection was not read because buffered request bytes reached --max-input-bytes.");
  w.sample("rustlog_input_budget_waits_total", {}, input_budget_waits.value());
  w.family("rustlog_turn_budget_hits_total", "counter",
           "Times a connection had more requests than its loop turn allowed (--max-requests-per-turn, "
           "--max-turn-us, 256 KiB of answers); the rest wait for the next turn.");
  w.sample("rustlog_turn_budget_hits_total", {}, turn_budget_hits.value());
  w.family("rustlog_turn_write_budget_hits_total", "counter",
           "Times a connection's unsent answers waited for the next loop turn because the turn "
           "had sent --max-turn-write-bytes over all connections.");
  w.sample("rustlog_turn_write_budget_hits_total", {}, turn_write_budget_hits.value());
  w.family("rustlog_topic_segment_floor_refusals_total", "counter",
           "CreateTopic requests refused because segment.bytes or segment.ms was below "
           "--min-segment-bytes or --min-segment-ms.");
  w.sample("rustlog_topic_segment_floor_refusals_total", {}, segment_floor_refusals.value());
  w.family("rustlog_topic_partition_limit_refusals_total", "counter",
           "CreateTopic requests refused because they asked for more partitions than --max-partitions.");
  w.sample("rustlog_topic_partition_limit_refusals_total", {}, partition_limit_refusals.value());
  w.family("rustlog_admin_steps_total", "counter",
           "Steps of topic creates and deletes: each loop turn does one, for up to --max-turn-us, and "
           "serves the other connections between two.");
  w.sample("rustlog_admin_steps_total", {}, admin_steps.value());
  w.family("rustlog_output_bytes", "gauge", "Answer bytes reserved now: queued, being built, or unsent.");
  w.sample("rustlog_output_bytes", {}, output_bytes.value());
  w.family("rustlog_input_bytes", "gauge", "Request bytes received and buffered now (partial or unhandled frames).");
  w.sample("rustlog_input_bytes", {}, input_bytes.value());

  // ---------------------------------------------------------- produce/fetch
  w.family("rustlog_produce_batch_records", "histogram", "Records per produce request (one record batch each).");
  w.histogram("rustlog_produce_batch_records", {}, produce_batch_records.snapshot(), 0);
  w.family("rustlog_produce_batch_bytes", "histogram", "Bytes per produced record batch, as appended to the log.");
  w.histogram("rustlog_produce_batch_bytes", {}, produce_batch_bytes.snapshot(), 0);
  w.family("rustlog_fetch_parked_total", "counter",
           "Long-poll fetches (FetchEx with max_wait_ms) that found too little data and waited.");
  w.sample("rustlog_fetch_parked_total", {}, fetch_parked.value());
  w.family("rustlog_fetch_parked_refused_total", "counter",
           "Long-poll fetches answered at once with what there was, because --max-parked-fetches or "
           "--max-parked-fetches-per-connection were waiting.");
  w.sample("rustlog_fetch_parked_refused_total", {}, fetch_parked_refused.value());
  w.family("rustlog_fetch_parked", "gauge", "Long-poll fetches waiting now.");
  w.sample("rustlog_fetch_parked", {}, fetch_parked_now.value());
  w.family("rustlog_fetch_slices_total", "counter",
           "Slices read in later loop turns by fetches (Fetch or FetchEx) too large for one slice.");
  w.sample("rustlog_fetch_slices_total", {}, fetch_slices.value());

  // -------------------------------------------------------------- durability
  w.family("rustlog_fsync_duration_seconds", "histogram",
           "Duration of each partition-log flush (fdatasync of its dirty segment files); _count is the "
           "number of flushes.");
  w.histogram("rustlog_fsync_duration_seconds", {}, fsync_latency.snapshot(), 9);
  w.family("rustlog_fsync_errors_total", "counter", "Failed flushes (the partition turned read-only).");
  w.sample("rustlog_fsync_errors_total", {}, fsync_errors.value());
  w.family("rustlog_group_commit_requests", "histogram",
           "Requests acknowledged by one group-commit round (one concurrent flush of every due partition); "
           "_count is the number of rounds.");
  w.histogram("rustlog_group_commit_requests", {}, group_commit_requests.snapshot(), 0);
  w.family("rustlog_group_commit_bytes", "histogram", "Bytes made durable by one group-commit round.");
  w.histogram("rustlog_group_commit_bytes", {}, group_commit_bytes.snapshot(), 0);
  w.family("rustlog_group_commit_partitions", "histogram", "Partitions flushed by one group-commit round.");
  w.histogram("rustlog_group_commit_partitions", {}, group_commit_partitions.snapshot(), 0);

  // ---------------------------------------------------------------- recovery
  w.family("rustlog_recovery_duration_seconds", "gauge", "How long opening the data directory took at start.");
  w.sample_text("rustlog_recovery_duration_seconds", {}, metrics::scaled_decimal(u(recovery_duration_ns.value()), 9));
  w.family("rustlog_recovery_partitions_total", "counter", "Partitions recovered at start.");
  w.sample("rustlog_recovery_partitions_total", {}, recovery_partitions.value());
  w.family("rustlog_recovery_scanned_bytes_total", "counter",
           "Bytes rescanned by recovery at start (data after the recovery-point checkpoint).");
  w.sample("rustlog_recovery_scanned_bytes_total", {}, recovery_scanned_bytes.value());
  w.family("rustlog_recovery_truncated_bytes_total", "counter",
           "Bytes of torn or corrupt log tail cut off by recovery at start.");
  w.sample("rustlog_recovery_truncated_bytes_total", {}, recovery_truncated_bytes.value());
  w.family("rustlog_recovery_indexes_rebuilt_total", "counter", "Segment index files rebuilt by recovery at start.");
  w.sample("rustlog_recovery_indexes_rebuilt_total", {}, recovery_indexes_rebuilt.value());
  w.family("rustlog_corruption_events_total", "counter",
           "Corruption found: source=\"recovery\" counts corrupt ranges recovery cut at start, "
           "source=\"read\" counts reads that failed a CRC check (answered with Error 502).");
  w.sample("rustlog_corruption_events_total", {{"source", "recovery"}}, corruption_recovery.value());
  w.sample("rustlog_corruption_events_total", {{"source", "read"}}, corruption_read.value());

  // --------------------------------------------------- retention, compaction
  w.family("rustlog_retention_deleted_segments_total", "counter", "Segments deleted by retention (retention.ms/bytes).");
  w.sample("rustlog_retention_deleted_segments_total", {}, retention_segments_deleted.value());
  w.family("rustlog_retention_deleted_bytes_total", "counter", "Bytes of segments deleted by retention.");
  w.sample("rustlog_retention_deleted_bytes_total", {}, retention_bytes_deleted.value());
  w.family("rustlog_compaction_runs_total", "counter", "Log compaction passes completed.");
  w.sample("rustlog_compaction_runs_total", {}, compaction_runs.value());
  w.family("rustlog_compaction_removed_records_total", "counter", "Records removed by log compaction.");
  w.sample("rustlog_compaction_removed_records_total", {}, compaction_records_removed.value());
  w.family("rustlog_compaction_reclaimed_bytes_total", "counter", "Bytes reclaimed by log compaction.");
  w.sample("rustlog_compaction_reclaimed_bytes_total", {}, compaction_bytes_reclaimed.value());
  w.family("rustlog_compaction_read_bytes_total", "counter",
           "Bytes the cleaner read (building key maps and recopying segments).");
  w.sample("rustlog_compaction_read_bytes_total", {}, compaction_bytes_read.value());
  w.family("rustlog_compaction_written_bytes_total", "counter", "Bytes the cleaner wrote (cleaned segment files).");
  w.sample("rustlog_compaction_written_bytes_total", {}, compaction_bytes_written.value());
  w.family("rustlog_compaction_uncleanable_total", "counter",
           "Cleaner passes that failed (corrupt batch, I/O error) and marked their partition uncleanable.");
  w.sample("rustlog_compaction_uncleanable_total", {}, compaction_uncleanable_events.value());
  w.family("rustlog_compaction_step_duration_seconds", "histogram",
           "Time the event loop spent in one cleaner step that did work (at most --cleaner-step-bytes read "
           "plus written, or a part of a swap between its fsyncs, which run off the loop): what a request "
           "can wait behind it.");
  w.histogram("rustlog_compaction_step_duration_seconds", {}, compaction_step_latency.snapshot(), 9);
  w.family("rustlog_compaction_disk_waits_total", "counter",
           "fsyncs of compaction swaps (cleaned files, the directory) run on the disk-wait worker "
           "instead of the event loop.");
  w.sample("rustlog_compaction_disk_waits_total", {}, compaction_disk_waits.value());
  w.family("rustlog_compaction_disk_wait_pending", "gauge",
           "1 while a compaction swap's fsync runs on the disk-wait worker (the swap goes on when it returns).");
  w.sample("rustlog_compaction_disk_wait_pending", {}, compaction_disk_wait_pending.value());
  w.family("rustlog_offsets_expired_total", "counter",
           "Committed offsets tombstoned because their group's last commit is --offsets-retention-ms old.");
  w.sample("rustlog_offsets_expired_total", {}, offsets_expired.value());

  // ------------------------------------------------------------------ process
  w.family("rustlog_build_info", "gauge", "Always 1; the version label says which kafka-lite this is.");
  w.sample("rustlog_build_info", {{"version", RUSTLOG_VERSION}}, uint64_t{1});
  w.family("rustlog_start_time_seconds", "gauge", "When the broker started, in seconds since the Unix epoch.");
  w.sample_text("rustlog_start_time_seconds", {}, metrics::scaled_decimal(u(start_time_unix_ms.value()), 3));

  // ------------------------------------------ partitions and groups (snapshot)
  snapshots_.read([&](const metrics::MetricsSnapshot* snap) {
    static const metrics::MetricsSnapshot kEmpty;
    const metrics::MetricsSnapshot& s = snap ? *snap : kEmpty;
    uint64_t read_only = 0;
    for (const auto& p : s.partitions) read_only += p.read_only ? 1 : 0;

    w.family("rustlog_metrics_snapshot_timestamp_seconds", "gauge",
             "When the event loop took the partition and group numbers below (published at most every "
             "100 ms while the broker is busy, every second when idle, and before each MetricsFetch).");
    w.sample_text("rustlog_metrics_snapshot_timestamp_seconds", {}, metrics::scaled_decimal(u(s.taken_unix_ms), 3));
    w.family("rustlog_topics", "gauge", "Topics, including internal ones.");
    w.sample("rustlog_topics", {}, s.topics);
    w.family("rustlog_partitions", "gauge", "Partitions of all topics, including internal ones.");
    w.sample("rustlog_partitions", {}, static_cast<uint64_t>(s.partitions.size()));
    w.family("rustlog_partitions_read_only", "gauge",
             "Partitions refusing writes after a fatal I/O error (until restart).");
    w.sample("rustlog_partitions_read_only", {}, read_only);

    std::string pnum;
    auto per_partition = [&](const char* name, const char* type, const char* help, auto field) {
      w.family(name, type, help);
      for (const auto& p : s.partitions) {
        pnum = std::to_string(p.partition);
        w.sample(name, {{"topic", p.topic}, {"partition", pnum}}, static_cast<uint64_t>(field(p)));
      }
    };
    using P = metrics::PartitionStats;
    per_partition("rustlog_partition_records_in_total", "counter", "Records appended by produce requests.",
                  [](const P& p) { return p.records_in; });
    per_partition("rustlog_partition_bytes_in_total", "counter",
                  "Record-batch bytes appended by produce requests, as stored in the log.",
                  [](const P& p) { return p.bytes_in; });
    per_partition("rustlog_partition_records_out_total", "counter", "Records returned by fetch requests.",
                  [](const P& p) { return p.records_out; });
    per_partition("rustlog_partition_bytes_out_total", "counter",
                  "Record-batch bytes read from the log to answer fetch requests.",
                  [](const P& p) { return p.bytes_out; });
    per_partition("rustlog_partition_high_watermark", "gauge",
                  "Offset after the last record consumers can read (with flush=always: the last fsynced one).",
                  [](const P& p) { return p.high_watermark; });
    per_partition("rustlog_partition_log_start_offset", "gauge", "First offset still in the log.",
                  [](const P& p) { return p.log_start_offset; });
    per_partition("rustlog_partition_size_bytes", "gauge", "Bytes of the partition's segment files.",
                  [](const P& p) { return p.size_bytes; });
    per_partition("rustlog_partition_segments", "gauge", "Segments of the partition's log.",
                  [](const P& p) { return p.segments; });
    per_partition("rustlog_partition_read_only", "gauge",
                  "1 when the partition refuses writes after a fatal I/O error (until restart), else 0.",
                  [](const P& p) { return p.read_only ? 1 : 0; });

    // Compacted partitions only: the cleaner's view of each.
    uint64_t uncleanable = 0;
    for (const auto& p : s.partitions) uncleanable += p.compacted && p.cleaner_state == "uncleanable";
    w.family("rustlog_compaction_uncleanable_partitions", "gauge",
             "Compacted partitions whose last clean failed (retried after --cleaner-backoff-ms, doubling).");
    w.sample("rustlog_compaction_uncleanable_partitions", {}, uncleanable);
    w.family("rustlog_partition_dirty_ratio", "gauge",
             "Compacted partitions: share of the cleanable log not cleaned yet (dirty / (clean + dirty) "
             "bytes of sealed segments); cleaned once at or above min.cleanable.dirty.ratio.");
    for (const auto& p : s.partitions)
      if (p.compacted) {
        pnum = std::to_string(p.partition);
        w.sample_text("rustlog_partition_dirty_ratio", {{"topic", p.topic}, {"partition", pnum}},
                      metrics::scaled_decimal(static_cast<uint64_t>(p.dirty_ratio * 1e6 + 0.5), 6));
      }
    w.family("rustlog_partition_cleaner_lag_bytes", "gauge",
             "Compacted partitions: bytes no cleaner pass has covered yet (first dirty segment to the log end).");
    for (const auto& p : s.partitions)
      if (p.compacted) {
        pnum = std::to_string(p.partition);
        w.sample("rustlog_partition_cleaner_lag_bytes", {{"topic", p.topic}, {"partition", pnum}}, p.cleaner_lag_bytes);
      }
    w.family("rustlog_partition_cleaner_state", "gauge",
             "Compacted partitions: 1 for the cleaner's state of the partition (idle, cleaning, uncleanable).");
    for (const auto& p : s.partitions)
      if (p.compacted) {
        pnum = std::to_string(p.partition);
        w.sample("rustlog_partition_cleaner_state",
                 {{"topic", p.topic}, {"partition", pnum}, {"state", p.cleaner_state}}, uint64_t{1});
      }

    std::vector<std::string_view> groups;
    for (const auto& g : s.groups)
      if (groups.empty() || groups.back() != g.group) groups.push_back(g.group);
    w.family("rustlog_consumer_groups", "gauge", "Consumer groups with at least one committed offset.");
    w.sample("rustlog_consumer_groups", {}, static_cast<uint64_t>(groups.size()));
    auto per_group = [&](const char* name, const char* help, auto field) {
      w.family(name, "gauge", help);
      for (const auto& g : s.groups) {
        pnum = std::to_string(g.partition);
        w.sample(name, {{"group", g.group}, {"topic", g.topic}, {"partition", pnum}}, static_cast<uint64_t>(field(g)));
      }
    };
    using G = metrics::GroupOffsetStats;
    per_group("rustlog_consumer_committed_offset", "Committed offset of a consumer group on a partition.",
              [](const G& g) { return g.committed; });
    per_group("rustlog_consumer_lag",
              "Records a consumer group has not yet consumed: the partition's high watermark minus the "
              "group's committed offset (0 when the commit is at or past it).",
              [](const G& g) { return g.lag; });
    return 0;
  });
  return out;
}

}  // namespace rustlog
