#pragma once
// The broker's request logic: topics, partitions and offsets, one request
// at a time. Owned and called only by the event-loop thread, so nothing here
// locks. Handlers never block on the network; a request that must wait (for
// the group-commit fsync, or a long-poll fetch) says so in its Reply and the
// loop completes it later.
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "broker/broker_config.h"
#include "broker/legacy_fetch.h"
#include "metrics/broker_metrics.h"
#include "offsets/offset_store.h"
#include "protocol/messages.h"
#include "common/status.h"
#include "topics/topic_registry.h"

namespace rustlog {

struct LegacyProduce;

// A legacy fetch read a slice per event-loop turn (Broker::continue_fetch),
// so one large fetch does not hold up the other connections.
struct LegacyFetchState {
  LegacyFetchState(uint64_t offset, uint32_t max_bytes) : read_at(offset), batch_budget(max_bytes), enc(offset, max_bytes, false) {}
  std::string topic;
  uint32_t partition = 0;
  const PartitionLog* log = nullptr;  // the log it reads (a topic deleted and re-created is another)
  uint64_t topic_deletes = 0;         // Broker::topic_deletes_ at the start: a re-created log may
                                      // reuse the old one's address, so `log` alone cannot tell
  uint64_t read_at;       // next offset to read from the log
  uint64_t batch_budget;  // batch bytes the answer may still read (max_bytes; the first batch always)
  bool first = true;
  LegacyFetchEncoder enc;
  std::string frame;
};

struct Reply {
  std::string frame;                  // the encoded response (or Error) frame
  PartitionLog* wait_flush = nullptr;  // acknowledge only after this log's flush
  std::vector<const PartitionLog*> destroyed_logs;  // DeleteTopic freed these: forget them
  std::optional<protocol::FetchExRequest> park;  // long-poll: retry until data or deadline
  std::unique_ptr<LegacyFetchState> fetch_more;  // legacy fetch not finished: continue_fetch each turn
  bool close_after = false;
};

class Broker {
 public:
  explicit Broker(BrokerConfig cfg);
  ~Broker();

  // Recovers every partition and the committed offsets.
  Status open(RegistryOpenReport* report);

  // Handles one request payload (the frame without its length).
  Reply handle(std::string_view payload, int64_t now_us);
  // Reads the next slice of a legacy fetch; the whole response frame once it
  // is complete (then `st` is done with).
  std::optional<std::string> continue_fetch(LegacyFetchState& st);
  // Re-evaluates a parked long-poll fetch; `final` when its deadline passed.
  std::optional<std::string> retry_fetch(const protocol::FetchExRequest& req, bool final);

  // The partition log a parked fetch waits on (nullptr if gone).
  PartitionLog* log_for(const std::string& topic, uint32_t partition);
  // Offset up to which a log's records may be served: with flush `always`
  // only what is fsynced (so nothing read can vanish in a crash).
  static uint64_t visible_end(const PartitionLog& log);

  // Logs that took appends since the last call (each once), for the loop's
  // group commit.
  std::vector<PartitionLog*> take_appended();

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

 private:
  // The settings of __consumer_offsets (compacted, fsynced before every ack).
  TopicConfig offsets_topic_config() const;
  using Out = Result<protocol::Response>;
  Out produce(const protocol::ProduceRequest& r, int64_t now_us, Reply& reply);
  Status produce_v0(const LegacyProduce& lp, int64_t now_us, Reply& reply);  // the fast legacy path
  Out produce_ex(const protocol::ProduceExRequest& r, int64_t now_us, Reply& reply);
  // Legacy fetch: the whole FetchResponse frame in reply.frame, or its first
  // slice in reply.fetch_more.
  Status fetch(const protocol::FetchRequest& r, Reply& reply);
  bool fetch_step(LegacyFetchState& st, Status* err);
  Out fetch_ex(const protocol::FetchExRequest& r, Reply* reply, bool final);
  Out offset_commit(const protocol::OffsetCommitRequest& r, int64_t now_us, Reply& reply);
  Out offset_fetch(const protocol::OffsetFetchRequest& r);
  Out create_topic(const std::string& name, uint32_t partitions,
                   const std::vector<protocol::ConfigEntry>& configs);
  Out list_topics();
  Out describe_topic(const protocol::DescribeTopicRequest& r);
  Out describe_partition(const protocol::DescribePartitionRequest& r);
  Out describe_topic_config(const protocol::DescribeTopicConfigRequest& r);
  Out delete_topic(const protocol::DeleteTopicRequest& r, int64_t now_us, Reply& reply);
  Out list_offsets(const protocol::ListOffsetsRequest& r);
  Out describe_group(const protocol::DescribeGroupRequest& r);
  Out delete_group(const protocol::DeleteGroupRequest& r, int64_t now_us, Reply& reply);
  // Remembers a log that took an append this turn (each once) for group commit.
  void note_appended(PartitionLog* log);
  Result<PartitionLog*> writable_partition(const std::string& topic, uint32_t partition);
  Result<ReadResult> read_visible(PartitionLog& log, uint64_t offset, uint32_t max_bytes,
                                  size_t first_batch_max = SIZE_MAX);
  Out append(PartitionLog& log, std::string& batch, uint32_t count, int64_t now_us, Reply& reply,
             AppendInfo* info);

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
  std::vector<PartitionLog*> appended_;
  uint64_t topic_deletes_ = 0;  // DeleteTopics so far (ends sliced legacy fetches early)
  std::string topic_buf_, batch_buf_;  // reused by produce_v0
};

}  // namespace rustlog
