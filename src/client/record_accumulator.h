#pragma once
// The Producer's batches: per partition, records accumulate into one open
// ProduceEx frame until it reaches batch_bytes (sealed) or has waited
// `linger`; sealed batches wait in one FIFO for the I/O thread. Not
// thread-safe: the Producer holds its lock around every call.
//
// Order: a partition's batches are taken in the order they were opened (a
// partition's open batch is only handed out when none of its sealed ones
// waits), so with one connection they reach the broker in send order.
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <vector>

#include "client/partitioner.h"
#include "client/send_future.h"
#include "protocol/messages.h"
#include "protocol/produce_encoder.h"

namespace rustlog::client {

using Clock = std::chrono::steady_clock;

struct ProducerBatch {
  ProducerBatch(const std::string& topic, uint32_t partition, uint64_t seq, Clock::time_point created);

  struct Callback {
    uint32_t index;
    int64_t timestamp_us;
    SendCallback fn;
  };

  std::optional<protocol::ProduceExEncoder> encoder;  // while open
  std::string frame;                   // once sealed: the whole request frame
  std::shared_ptr<detail::BatchOutcome> outcome;
  std::vector<Callback> callbacks;
  uint64_t seq;  // creation order, across partitions
  Clock::time_point created;
  size_t reserved_bytes = 0;  // counted against buffer_bytes until resolved
  uint32_t records = 0;
  bool own_timestamps = false;  // its records carry their own timestamps (else the broker's)
  // With a codec: `frame` has been rebuilt as a compressed ProduceBatch (or
  // left the ProduceEx it is when it cannot be). The Producer's compressor
  // thread sets it, under the Producer's lock (producer_impl.h).
  bool compressed = false;
  bool compressing = false;  // the compressor reads `frame` now, outside the lock

  const std::string& topic() const { return outcome->topic(); }
  uint32_t partition() const { return outcome->partition(); }
};

class RecordAccumulator {
 public:
  struct Options {
    size_t batch_bytes = 1 << 20;
    uint32_t batch_records = 0;  // 0 = no limit
    std::chrono::microseconds linger{5000};
    UnkeyedPartitioning unkeyed = UnkeyedPartitioning::kFirstPartition;
    // One timestamp rule per batch (a compressed batch has one): a record
    // with its own timestamp after ones without (or the reverse) starts a
    // new batch.
    bool one_timestamp_rule = false;
  };
  explicit RecordAccumulator(Options options) : options_(options) {}

  // Known topics and their partition counts.
  bool knows(const std::string& topic) const { return topics_.count(topic) > 0; }
  uint32_t partition_count(const std::string& topic) const;
  void add_topic(const std::string& topic, uint32_t partition_count);
  // Forgets a topic (after a 404/405, so the next send looks it up again)
  // and returns its batches not yet handed out, to fail them.
  std::vector<std::unique_ptr<ProducerBatch>> forget_topic(const std::string& topic);

  // The partition a record goes to: explicit >= 0, else its key's hash, else
  // the unkeyed policy. The topic must be known.
  uint32_t choose_partition(const std::string& topic, const protocol::ProducerRecord& record, int64_t explicit_partition);

  struct Appended {
    SendFuture future;
    bool opened = false;  // started a new batch (the I/O thread may need a wake-up)
    bool sealed = false;  // a batch became full
  };
  // Appends a record encoded by ProduceExEncoder::encode (the caller has
  // reserved buffer space for it). timestamp_us is the record's own (-1: none).
  // sticky_choice: the partition came from the sticky rule.
  Appended append(const std::string& topic, uint32_t partition, std::string_view encoded, bool sticky_choice,
                  int64_t timestamp_us, SendCallback callback, Clock::time_point now);

  // The next batch the I/O thread may send: the oldest sealed one, else the
  // oldest open one whose linger has passed (every open one when `drain`).
  std::unique_ptr<ProducerBatch> next_ready(Clock::time_point now, bool drain);
  // For a compressing Producer, which sends only compressed batches and
  // seals an open batch before it is compressed: seals the oldest open batch
  // whose linger has passed (every open one when `drain`); false when none.
  bool seal_ready(Clock::time_point now, bool drain);
  // The batch next_ready() gives next if one is sealed (nullptr: none sealed).
  const ProducerBatch* front_sealed() const { return sealed_.empty() ? nullptr : sealed_.front().get(); }
  // The oldest sealed batch neither compressed nor being compressed.
  ProducerBatch* next_to_compress();
  size_t sealed_count() const { return sealed_.size(); }
  // When the oldest open batch's linger ends (nullopt: none open).
  std::optional<Clock::time_point> next_deadline() const;

  // Removes every batch of the partition not yet handed out (sealed and
  // open), to fail them after an earlier batch of it failed.
  std::vector<std::unique_ptr<ProducerBatch>> take_partition(const std::string& topic, uint32_t partition);
  // Every batch not yet handed out.
  std::vector<std::unique_ptr<ProducerBatch>> take_all();

  // Removes every batch not handed out that was created before `cutoff`.
  std::vector<std::unique_ptr<ProducerBatch>> take_created_before(Clock::time_point cutoff);

  bool empty() const { return sealed_.empty() && open_count_ == 0; }
  bool has_sealed() const { return !sealed_.empty(); }
  uint64_t batches_created() const { return next_seq_; }

 private:
  struct PartitionQueue {
    std::unique_ptr<ProducerBatch> open;
    size_t sealed_waiting = 0;
  };
  struct TopicState {
    std::vector<PartitionQueue> parts;
    uint32_t sticky = 0;
    uint64_t sticky_seq = UINT64_MAX;  // the batch the sticky partition was filling
  };

  void seal(PartitionQueue& q);
  // Removes and returns the oldest open batch's queue if its linger has passed (or `drain`).
  PartitionQueue* pop_ready_open(Clock::time_point now, bool drain);
  PartitionQueue& queue_of(const ProducerBatch& batch);
  static std::unique_ptr<ProducerBatch> finish(std::unique_ptr<ProducerBatch> batch);

  Options options_;
  std::unordered_map<std::string, TopicState> topics_;
  std::deque<std::unique_ptr<ProducerBatch>> sealed_;
  // Open batches in the order they were opened = the order their linger ends.
  struct OpenRef {
    PartitionQueue* queue;
    uint64_t seq;
  };
  std::deque<OpenRef> open_order_;
  size_t open_count_ = 0;
  uint64_t next_seq_ = 0;
  std::minstd_rand rng_{std::random_device{}()};
};

}  // namespace rustlog::client
