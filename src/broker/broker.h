#pragma once
// The broker's request logic: topics, partitions and offsets, one request
// at a time. Owned and called only by the event-loop thread, so nothing here
// locks. Handlers never block on the network; a request that must wait (for
// the group-commit fsync, or a long-poll fetch) says so in its Outcome and
// the connection's queue (dispatcher.h) completes it later. The broker also
// owns group commit, and all bookkeeping about logs that come and go
// (DeleteTopic): the queues above it only hold LogIds and FlushTickets.
#include <chrono>
#include <deque>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/broker_config.h"
#include "broker/disk_wait_worker.h"
#include "broker/group_commit.h"
#include "broker/outcome.h"
#include "metrics/broker_metrics.h"
#include "offsets/offset_store.h"
#include "protocol/error_codes_v0.h"
#include "protocol/messages.h"
#include "common/status.h"
#include "storage/log_cleaner.h"
#include "topics/topic_registry.h"

namespace rustlog {

namespace protocol {
struct ProduceV0;
}

class Broker {
 public:
  explicit Broker(BrokerConfig cfg);
  ~Broker();

  // Recovers every partition and the committed offsets.
  Status open(RegistryOpenReport* report);

  // Handles one request payload (the frame without its length). An error is
  // answered with the v0 code when the connection has not sent Handshake and
  // the request is a v0 one (protocol/error_codes_v0.h), else with its
  // ErrorCode. With `group`, a produce that passes its checks is staged
  // (outcome::Staged) instead of written: see write_group.
  Outcome handle(std::string_view payload, int64_t now_us, bool handshaken = false, bool group = false);
  // --- grouped appends (broker_produce.cpp)
  // The batches of staged produces wait laid end to end per partition, and
  // each partition's are written in one write (PartitionLog::append_batches:
  // one roll decision, all of them or none); a partition's staged batches
  // are also written as soon as they reach kGroupBytes (or its
  // segment.bytes), so one write never grows unbounded. write_group writes
  // what is staged and returns the staged produces' outcomes in the order
  // they were staged: Ready, or AwaitFlush (flush = always, ticket at the
  // end of its own batch), or the error of its partition's failed write
  // (every produce of that write fails; none of its batches is in the log).
  // Nothing else may touch the logs between staging and write_group: the
  // caller (Dispatcher::serve) writes the group before it handles any
  // request that is not an append and before a connection's turn ends.
  std::vector<Outcome> write_group();
  static constexpr uint64_t kGroupBytes = 256 * 1024;
  // True for requests whose evaluation reads nothing an earlier request's
  // pending flush could change (Produce, ProduceEx): they may be handled
  // while answers ahead of them on their connection wait for a flush. Any
  // other request waits until those are durable (read-your-writes).
  static bool appends_only(uint8_t type);
  // True for requests that change state (appends, commits, admin): the only
  // ones still worth evaluating once nobody can receive their answers.
  static bool changes_state(uint8_t type);
  // Fetch or FetchEx (what may be read in slices).
  static bool is_fetch(uint8_t type);
  // Output bytes to reserve for the answer to `payload` before handling it:
  // a fetch's max_bytes as the broker caps it (at least 64 KiB), else a
  // small fixed amount. Corrected to the real size once the answer exists.
  uint64_t answer_bound(std::string_view payload) const;

  // Batch bytes a fetch reads per event-loop turn (at least one batch): a
  // 1 MiB fetch of small batches takes 16 turns, and the other connections
  // are served between them.
  static constexpr uint64_t kFetchSliceBytes = 64 * 1024;
  // Reads the next slice of a fetch (legacy or FetchEx); the whole response
  // frame once it is complete (then `st` is done with).
  std::optional<std::string> continue_fetch(FetchState& st);
  // Re-evaluates a parked long-poll fetch; `final` when its deadline passed.
  // LongPoll: still waiting; Ready: its answer; FetchSlices: its answer's
  // first slice is read, the rest comes from continue_fetch.
  Outcome retry_fetch(const protocol::FetchExRequest& req, bool final, bool handshaken);
  // Output bytes to reserve for a FetchEx answer of `max_bytes`.
  uint64_t fetch_ex_bound(uint64_t max_bytes) const;

  // --- topic creates and deletes in bounded steps (broker_admin_jobs.cpp).
  // A CreateTopic(Ex) or DeleteTopic that passes the checks needing no
  // state is queued as a job (outcome::AdminSteps, answered later); the
  // jobs run one after the other, a bounded step of the oldest per loop
  // turn (TopicRegistry::step, for up to --max-turn-us and at least one
  // unit), so every other connection is served between two steps.
  struct AdminDone {
    uint64_t job = 0;
    std::string frame;  // the answer (or error) to its request
  };
  // One step of the oldest job (all of them to the end when `all`: stop);
  // the answers of the jobs that finished.
  std::vector<AdminDone> admin_step(int64_t now_us, bool all);
  bool admin_pending() const { return !admin_jobs_.empty(); }

  // --- group commit
  struct CommitRound {
    std::vector<LogId> visible;  // logs whose readable end may have moved (or that were deleted)
    size_t partitions = 0;       // logs flushed
    uint64_t bytes = 0;          // bytes made durable
  };
  // Flushes the logs that took appends and are due (all of them when `all`).
  CommitRound group_commit(int64_t now_ms, bool all);
  int64_t flush_due_in_ms(int64_t now_ms, int64_t cap) const { return group_commit_.due_in_ms(now_ms, cap); }
  // std::nullopt while the ticket's flush is pending; ok once durable (or
  // the log was deleted: the delete is durable first); else the log's fatal
  // I/O error (the append is not acknowledged).
  std::optional<Status> flush_result(const FlushTicket& t) const;

  // The partition log a fetch reads (nullptr if gone), and log ids.
  PartitionLog* log_for(const std::string& topic, uint32_t partition);
  LogId log_id(const PartitionLog* log) const;
  // Offset up to which a log's records may be served, and the high
  // watermark every answer reports: with flush `always` only what is
  // fsynced (so nothing read can vanish in a crash), else what is appended.
  static uint64_t visible_end(const PartitionLog& log);

  TopicRegistry& registry() { return *registry_; }
  BrokerMetrics& metrics() { return metrics_; }
  // --- metrics (src/broker/metrics_snapshot.cpp)
  // The traffic counters of a partition (created with the partition).
  PartitionCounters& partition_counters(const PartitionLog* log);
  // Bytes appended to `log` since the previous call (for group-commit sizes).
  uint64_t take_flushed_bytes(PartitionLog* log);
  // Publishes a snapshot of partition and group numbers for the HTTP
  // endpoint when one is due: at most every 100 ms after requests changed
  // something, at least every second. `steady_ms`: the loop's clock.
  void maybe_publish_metrics(int64_t steady_ms);
  // Milliseconds until maybe_publish_metrics has something to do.
  int64_t metrics_publish_due_in(int64_t steady_ms) const;
  // Publishes a fresh snapshot and renders everything (MetricsFetch).
  std::string render_metrics();
  const BrokerConfig& config() const { return cfg_; }
  Status shutdown();

  // --- periodic work (src/broker/broker_retention.cpp), one call per loop
  // turn with the broker's wall clock: time-based rolls, retention every
  // --retention-check-interval-ms, unlinking what retention took out of the
  // logs at an earlier tick, expiring consumer-group offsets
  // (--offsets-retention-ms). Each call does bounded work.
  // `clients_served`: the loop served a connection in this turn (the
  // cleaner then takes only its share of the loop for a while).
  void tick(int64_t now_us, bool clients_served = false);
  // Milliseconds until tick() has cleaner work (0 while a pass is under way:
  // the loop then does not sleep between steps).
  int64_t cleaner_due_in_ms(int64_t now_us) const;
  const LogCleaner* cleaner() const { return cleaner_.get(); }
  // Blocks until no swap fsync of the cleaner is out, going on with the pass
  // after each one returns (shutdown; tests that want the cleaner's work at
  // fixed points of an injected clock).
  void settle_cleaner(int64_t now_us);
  // Readable when a swap's fsync returned on the disk-wait worker (the loop
  // has it in its epoll set; -1: none).
  int cleaner_wake_fd() const;

 private:
  // The settings of __consumer_offsets (compacted, fsynced before every ack).
  TopicConfig offsets_topic_config() const;
  using Out = Result<protocol::Response>;
  // What a handler wants besides its response (handle() turns it into the
  // Outcome): a flush to wait for, a long poll, or a fetch read in slices.
  struct Effects {
    PartitionLog* wait_flush = nullptr;
    std::optional<protocol::FetchExRequest> park;
    std::unique_ptr<FetchState> slices;
    // The v0 code of the failure when the generic mapping (v0_code) cannot
    // tell it: a CreateTopic's partition count.
    std::optional<protocol::V0Code> v0_code;
    bool staged = false;  // its batch was staged (grouping_), not written
    std::optional<uint64_t> admin_job;  // queued as a job (admin_step answers it)
    Splices splices;  // a whole fetch answer's values sent from segment mappings
  };
  Out dispatch(const protocol::Request& req, int64_t now_us, Effects& fx);
  Out produce(const protocol::ProduceRequest& r, int64_t now_us, Effects& fx);
  Status produce_v0(const protocol::ProduceV0& p, int64_t now_us, Effects& fx, std::string& frame);
  Out produce_ex(const protocol::ProduceExRequest& r, int64_t now_us, Effects& fx);
  // A producer's batch (broker_produce_batch.cpp): checked whole, stored as sent.
  Out produce_batch(const protocol::ProduceBatchRequest& r, int64_t now_us, Effects& fx);
  // Legacy fetch: the whole FetchResponse frame in `frame` (its spliced
  // values in fx.splices), or its first slice in fx.slices.
  Status fetch(const protocol::FetchRequest& r, Effects& fx, std::string& frame);
  bool fetch_step(FetchState& st, Status* err);
  // FetchEx: the whole frame in `frame`, or its first slice in fx.slices, or
  // (not `final`, too little to return yet) fx.park.
  Status fetch_ex(const protocol::FetchExRequest& r, bool final, Effects& fx, std::string& frame);
  bool fetch_ex_step(FetchState& st, Status* err);
  Status finish_fetch_ex(FetchState& st, PartitionLog* log);
  void count_fetch_ex(const FetchState& st);  // a FetchEx answered: its partition's counters
  Out offset_commit(const protocol::OffsetCommitRequest& r, int64_t now_us, Effects& fx);
  Out offset_fetch(const protocol::OffsetFetchRequest& r);
  Out create_topic(const std::string& name, uint32_t partitions,
                   const std::vector<protocol::ConfigEntry>& configs, Effects& fx);
  Out list_topics();
  Out describe_topic(const protocol::DescribeTopicRequest& r);
  Out describe_partition(const protocol::DescribePartitionRequest& r);
  Out describe_topic_config(const protocol::DescribeTopicConfigRequest& r);
  Out delete_topic(const protocol::DeleteTopicRequest& r, int64_t now_us, Effects& fx);
  Out list_offsets(const protocol::ListOffsetsRequest& r);
  Out describe_group(const protocol::DescribeGroupRequest& r);
  Out delete_group(const protocol::DeleteGroupRequest& r, int64_t now_us, Effects& fx);
  // Remembers a log that took an append (for group commit and long polls).
  void note_appended(PartitionLog* log);
  // A queued topic create or delete (admin_step).
  struct AdminJob {
    uint64_t id = 0;
    uint8_t type = 0;  // the request type: which answer it gets
    bool handshaken = false;
    bool create = true;
    std::string topic;
    TopicConfig config;  // create
    std::unique_ptr<TopicJob> job;  // once started
    // Delete: the groups' offsets before their tombstones (written back if
    // the delete fails before it is decided), and how many there were.
    std::vector<std::pair<GroupKey, uint64_t>> offsets_before;
    uint64_t offsets_removed = 0;
  };
  uint64_t queue_admin(bool create, const std::string& topic, TopicConfig config);
  Status start_admin(AdminJob& a, int64_t now_us);
  void fail_delete(AdminJob& a, const Status& st, int64_t now_us);
  std::string finish_admin(AdminJob& a, const Status& st);
  std::deque<AdminJob> admin_jobs_;
  uint64_t next_admin_job_ = 1;
  // Forgets logs DeleteTopic is about to free.
  void forget_logs(const std::vector<const PartitionLog*>& gone);
  Result<PartitionLog*> writable_partition(const std::string& topic, uint32_t partition);
  // The topic's cleanup.policy includes compact (keyless records are refused).
  bool compacted(const std::string& topic);
  // What a fetch may see of `log` from `offset` (at most the durable end),
  // each batch handed to `visit` without a copy (PartitionLog::read_each).
  Result<ReadInfo> read_visible(PartitionLog& log, uint64_t offset, uint32_t max_bytes, size_t first_batch_max,
                                const BatchVisitor& visit);
  Out append(PartitionLog& log, std::string& batch, uint32_t count, int64_t now_us, Effects& fx,
             AppendInfo* info);
  // append() for a batch whose fetchability was checked already.
  Out append_fetchable(PartitionLog& log, std::string& batch, uint32_t count, int64_t now_us, Effects& fx,
                       AppendInfo* info);
  // The offset the next batch appended to `log` takes (behind staged ones).
  uint64_t next_append_offset(const PartitionLog& log) const;
  // Grouped appends: a produce's batch held back until its run is written.
  struct StagedProduce {
    PartitionLog* log = nullptr;
    uint64_t end = 0;  // the offset after its batch
    uint32_t records = 0;
    uint64_t bytes = 0;
    uint8_t type = 0;
    bool handshaken = false;
    std::string frame;  // its answer, for when its batch is written
    Status result;      // its run's write
  };
  struct Run {  // one partition's staged batches, end to end
    PartitionLog* log = nullptr;
    std::string bytes;
    uint64_t next = 0;  // the offset after its last batch
    int64_t now_us = 0;
    std::vector<size_t> members;  // indexes into staged_
  };
  void stage(PartitionLog& log, std::string& batch, uint32_t count, int64_t now_us, AppendInfo* info);
  void write_run(Run& run);
  void note_written(PartitionLog& log, uint32_t records, uint64_t bytes);
  Outcome staged(uint8_t type, bool handshaken, std::string frame);
  bool grouping_ = false;
  std::vector<StagedProduce> staged_;
  std::vector<Run> runs_;

  BrokerConfig cfg_;
  std::unique_ptr<TopicRegistry> registry_;
  std::unique_ptr<OffsetStore> offsets_;
  BrokerMetrics metrics_;
  std::unordered_map<const PartitionLog*, std::unique_ptr<PartitionCounters>> partition_counters_;
  bool metrics_dirty_ = true;
  int64_t metrics_published_ms_ = 0;
  metrics::Trailing<metrics::HistogramSnapshot> fsync_recent_;  // for the snapshot's recent fsync latency
  void track_partitions(const Topic& t);
  void publish_metrics();
  GroupCommit group_commit_;
  std::vector<PartitionLog*> appended_;  // since the last group_commit (each once)
  std::vector<LogId> destroyed_;         // deleted since the last group_commit
  std::unordered_map<const PartitionLog*, LogId> log_ids_;
  std::unordered_map<LogId, PartitionLog*> logs_;
  LogId next_log_id_ = 1;
  int64_t next_roll_check_us_ = 0;
  int64_t next_retention_us_ = 0;
  void run_retention(int64_t now_us);
  // --offsets-retention-ms (src/broker/broker_offsets_expiry.cpp).
  int64_t next_offsets_expiry_us_ = 0;
  void expire_offsets(int64_t now_us);
  // The cleaner (src/broker/broker_cleaner.cpp): every partition of a topic
  // with compact in cleanup.policy, __consumer_offsets included, is
  // registered when it appears and removed before its log is freed.
  std::unique_ptr<DiskWaitWorker> disk_waits_;  // before cleaner_: outlives its waits
  std::unique_ptr<LogCleaner> cleaner_;
  std::map<std::string, PartitionLog*> cleaner_logs_;  // by directory name
  int64_t next_clean_us_ = 0;
  bool purge_after_clean_ = false;  // a swap left .deleted files to unlink next turn
  CleanerCounters pass_start_;      // the cleaner's counters when the current pass began
  void start_cleaner();
  void cleaner_track(const Topic& t);
  void cleaner_forget(const PartitionLog* log);
  uint64_t cleaner_logs_size() const;
  void run_cleaner(int64_t now_us, bool clients_served);
  bool clients_busy(int64_t now_us) const;
  int64_t last_client_us_ = INT64_MIN / 2;  // the last turn that served a connection
  int64_t next_share_us_ = 0;               // while clients are busy: the next step's earliest start
  // Metrics and logging after a step or a disk wait's continuation; hands
  // out the disk wait it stopped at.
  void note_cleaner_work(CleanerStep s, const CleanerCounters& before, uint64_t size_before,
                         std::chrono::steady_clock::time_point t0, int64_t now_us);
  // Goes on with the pass after its disk wait returned `waited`.
  void resume_cleaner(const Status& waited, int64_t now_us);
  std::string topic_buf_, batch_buf_;  // reused by produce_v0 and produce_batch
};

}  // namespace rustlog
