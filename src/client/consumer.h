#pragma once
// Consumer: reads one topic's partitions in order, as a member of a consumer
// group, on top of one Client.
//
//   client::ConsumerOptions o;
//   o.group_id = "billing";
//   o.auto_offset_reset = client::OffsetReset::kEarliest;
//   auto c = client::Consumer::connect("127.0.0.1:9092", o);
//   c->subscribe("orders").throw_if_error();
//   for (;;) {
//     auto records = c->poll(std::chrono::seconds(1));
//     if (!records) return fail(records.error());
//     for (const auto& r : *records) handle(r);
//     c->commit().throw_if_error();   // after handling: at-least-once
//   }
//
// Where reading starts, per partition: a position set with seek*() if any;
// else the group's committed offset; else (no group, no committed offset)
// auto_offset_reset: kEarliest = the log start, kLatest = the high watermark,
// kNone = poll() fails with 416. The same rule applies when the broker
// answers a fetch with 416 (the position fell out of range, e.g. retention
// deleted it): the position moves to the earliest or latest offset.
//
// "Joining" a group means reading and writing the group's committed offsets
// on the broker; RustLog has no membership protocol, so two consumers of one
// group on one partition each read everything (split partitions between them
// with assign()).
//
// Commits store, per partition, the offset after the last record poll() has
// returned. commit() does it on request; with auto_commit_every = N, poll()
// commits first whenever N or more records were returned since the last
// commit (records returned by earlier polls count as handled by the time you
// poll again), and close() commits the rest. Either way a crash repeats at
// most the records returned after the last commit and loses none.
//
// The address picks the implementation (client/backend.h): "host:port" is
// RustLog, as above; "kafka://host:9092[,host:9092]" reads Apache Kafka
// through librdkafka, in programs linked with rustlog_client_kafka. There
// the same calls keep the same meaning with two differences (docs/CLIENT.md,
// "RustLog or Kafka"): subscribe() with a group_id joins Kafka's group
// protocol, which splits the partitions between the group's members and
// moves them on rebalances (partitions arrive during poll(); seek*() act on
// those assigned so far), and offsets are Kafka's own.
//
// poll() long-polls: when no partition has records it asks the broker to hold
// the fetch up to max_wait (per call, up to the poll's timeout), so an idle
// consumer costs a request per max_wait, not a busy loop. With several
// partitions the wait is shared between them in turn.
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "client/client.h"

namespace rustlog::client {

class ConsumerBackend;

enum class OffsetReset { kEarliest, kLatest, kNone };

// "earliest", "latest", "none".
ClientResult<OffsetReset> parse_offset_reset(std::string_view text);
const char* offset_reset_name(OffsetReset reset);

struct ConsumerOptions {
  std::string group_id;  // empty: no group (nothing is committed or read from commits)
  OffsetReset auto_offset_reset = OffsetReset::kLatest;
  uint64_t auto_commit_every = 0;  // 0: commit only on commit()
  size_t max_poll_records = 500;   // most records one poll() returns
  uint32_t max_bytes = 1 << 20;    // per fetch (soft)
  std::chrono::milliseconds max_wait{500};  // long-poll: longest the broker holds one fetch
  uint32_t min_bytes = 1;
};

struct ConsumerRecord : Record {
  std::string topic;
  uint32_t partition = 0;
};

struct PartitionPosition {
  std::string topic;
  uint32_t partition = 0;
  std::optional<uint64_t> position;        // next offset poll() returns; nullopt before the first poll
  std::optional<uint64_t> committed;       // last offset this consumer committed or read from the group
  std::optional<uint64_t> high_watermark;  // as of the last fetch
};

class Consumer {
 public:
  Consumer(Client client, ConsumerOptions options);
  // A kafka:// broker gives a Kafka-backed Consumer (see the top).
  static ClientResult<Consumer> connect(std::string_view broker, ConsumerOptions options,
                                        const ClientOptions& client_options = {});

  Consumer(Consumer&&) noexcept;
  Consumer& operator=(Consumer&&) noexcept;
  ~Consumer();

  // Reads every partition of the topic (asks the broker how many).
  ClientStatus subscribe(const std::string& topic);
  // Reads only these partitions (replaces any earlier assignment).
  ClientStatus assign(const std::string& topic, std::vector<uint32_t> partitions);

  // Sets where the next poll() reads from (overrides the committed offset).
  ClientStatus seek(uint32_t partition, uint64_t offset);
  ClientStatus seek_to_beginning();
  ClientStatus seek_to_end();
  // The first record whose timestamp is >= timestamp_us (µs since epoch);
  // the end of the log when there is none.
  ClientStatus seek_to_time(int64_t timestamp_us);

  // Up to max_records (0 = options.max_poll_records) records, waiting up to
  // `timeout` for at least one. An empty vector means none arrived in time.
  ClientResult<std::vector<ConsumerRecord>> poll(std::chrono::milliseconds timeout, size_t max_records = 0);

  // Commits, for every partition, the offset after the last record returned.
  ClientStatus commit();
  // Commits whatever pending auto-commit remains (when auto_commit_every > 0).
  ClientStatus close();

  // Starting positions resolved now (poll() does it when needed).
  ClientStatus resolve_positions();

  const std::string& topic() const;
  const ConsumerOptions& options() const { return options_; }
  std::vector<PartitionPosition> positions() const;
  std::optional<uint64_t> position(uint32_t partition) const;
  // Records returned since the last commit.
  uint64_t uncommitted() const;
  // True when this Consumer reads from Kafka (a kafka:// address).
  bool on_kafka() const { return backend_ != nullptr; }
  // The RustLog Client underneath; a Kafka-backed Consumer has none and
  // throws ClientException (400).
  Client& client();

 private:
  struct Part {
    uint32_t partition = 0;
    std::optional<uint64_t> position;  // next offset to return
    std::optional<uint64_t> committed;
    std::optional<uint64_t> high_watermark;
    std::deque<Record> buffer;  // fetched, not yet returned
    uint64_t fetch_next = 0;    // next offset to fetch when the buffer is empty
  };

  ClientStatus resolve(Part& p);
  ClientStatus reset(Part& p);
  // One fetch for p; records go to its buffer. On 416, resets the position.
  ClientStatus fetch_into(Part& p, std::chrono::milliseconds wait);
  void drain(std::vector<ConsumerRecord>& out, size_t max_records);
  Part* find(uint32_t partition);

  Consumer(std::unique_ptr<ConsumerBackend> backend, ConsumerOptions options);

  std::optional<Client> client_;              // RustLog
  std::unique_ptr<ConsumerBackend> backend_;  // Kafka: every call goes there
  ConsumerOptions options_;
  std::string topic_;
  std::vector<Part> parts_;
  size_t next_part_ = 0;  // round-robin start
  uint64_t since_commit_ = 0;
};

}  // namespace rustlog::client
