#pragma once
// The RustLog client library: a synchronous client over one TCP connection,
// speaking the extended protocol (docs/PROTOCOL.md). docs/CLIENT.md has the
// guide; in short:
//
//   #include "client/client.h"
//   using namespace rustlog;
//   auto c = client::Client::connect("127.0.0.1:9092");
//   if (!c) { std::cerr << c.error().to_string() << "\n"; return 1; }
//   (void)c->create_topic("orders", 3);
//   auto r = c->produce("orders", 0, {client::record("order 1", "customer-7")});
//   auto f = c->fetch("orders", 0, r->base_offset);
//   for (const Record& rec : f->records) std::cout << *rec.value << "\n";
//
// Every call blocks until the broker answers and returns a ClientResult
// (errors.h): the value, or a ClientError with the broker's code and message
// (404 for an unknown topic, 416 for an offset out of range, ...), or a
// transport error (520 Transport: connection refused, reset, timed out).
//
// Pipelining: send_produce() writes a ProduceEx without waiting for its
// answer; receive_produce() reads the oldest outstanding answer. While
// answers are outstanding, every other call fails with a kClient error: read
// them first. (The broker answers requests in order on a connection.)
//
// After a transport error the connection is closed and every later call fails
// with 520 until reconnect(). Not thread-safe: one Client per thread.
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "client/connection.h"
#include "client/errors.h"
#include "client/partitioner.h"  // partition_for_key
#include "protocol/messages.h"
#include "common/record.h"

namespace rustlog::client {

inline constexpr std::string_view kDefaultBroker = "127.0.0.1:9092";
inline constexpr std::string_view kBrokerEnvVar = "RUSTLOG_BROKER";
inline constexpr std::string_view kClientVersion = "rustlog-client/0.1.0";

struct BrokerAddress {
  std::string host;
  uint16_t port = 9092;
  // "host:port", with brackets around an IPv6 host.
  std::string to_string() const;
};

// "host:port", "[v6addr]:port", or "host" (port 9092).
ClientResult<BrokerAddress> parse_broker_address(std::string_view text);

// $RUSTLOG_BROKER when set and not empty, else "127.0.0.1:9092".
std::string default_broker_address();

struct ClientOptions {
  std::string client_id = std::string(kClientVersion);  // sent in the Handshake
  std::chrono::milliseconds connect_timeout{5000};
  // The longest one request waits for its answer (a long-poll fetch gets its
  // max_wait on top). 0 = wait forever.
  std::chrono::milliseconds request_timeout{30000};
  uint32_t max_frame_bytes = protocol::kDefaultMaxFrameBytes;
  // Send a Handshake on connect (learns the broker's version and frame limit).
  bool handshake = true;
  // kafka:// addresses only (client/backend.h): librdkafka settings applied
  // after the client's own, e.g. {"security.protocol", "ssl"}.
  std::vector<std::pair<std::string, std::string>> kafka_config;
};

using protocol::ConfigEntry;
using protocol::ProducerRecord;

// A record to produce: value, optional key, optional headers, broker timestamp.
ProducerRecord record(std::string value, std::optional<std::string> key = std::nullopt,
                      std::vector<RecordHeader> headers = {});

struct ProduceResult {
  std::string topic;
  uint32_t partition = 0;
  uint64_t base_offset = 0;  // offset of the first record
  uint32_t record_count = 0;
  int64_t append_time_us = 0;  // broker time the batch was appended (µs since epoch)
  // Offset after the last record.
  uint64_t next_offset() const { return base_offset + record_count; }
};

struct FetchOptions {
  uint32_t max_bytes = 1 << 20;  // soft: at least one record when one exists
  // Long-poll: the broker waits up to max_wait for min_bytes of records.
  std::chrono::milliseconds max_wait{0};
  uint32_t min_bytes = 1;
};

struct FetchResult {
  uint64_t high_watermark = 0;   // offset the next produced record will get
  uint64_t log_start_offset = 0;
  std::vector<Record> records;   // each with its own offset (there may be gaps)
  uint64_t next_offset = 0;      // where to fetch next
};

struct OffsetLookup {
  uint64_t offset = 0;
  bool found = true;  // false: no record at or after the timestamp (offset = high watermark)
};

struct TopicInfo {
  std::string name;
  uint32_t partitions = 0;
};

struct TopicDescription {
  std::string name;
  uint32_t partition_count = 0;
  // Per partition: log start, high watermark, segment count, bytes on disk.
  std::vector<protocol::PartitionStats> partitions;
  std::vector<ConfigEntry> configs;  // as the broker applies them, defaults included
};

// One committed offset of a group: topic, partition, committed, high watermark, lag.
using GroupOffset = protocol::GroupPartitionOffset;

class Client {
 public:
  // `address` is "host:port" (see parse_broker_address).
  static ClientResult<Client> connect(std::string_view address, const ClientOptions& options = {});
  static ClientResult<Client> connect(const BrokerAddress& address, const ClientOptions& options = {});

  Client(Client&&) noexcept;
  Client& operator=(Client&&) noexcept;
  ~Client();

  // "host:port" this client talks to.
  const std::string& broker() const { return address_str_; }
  bool connected() const;
  // Closes the connection (if open) and opens a new one. Outstanding
  // pipelined answers are dropped.
  ClientStatus reconnect();
  void close();

  // The broker's Handshake answer (server_version empty when the handshake
  // was disabled or the broker does not know it).
  const protocol::HandshakeResponse& server() const { return server_; }

  // ------------------------------------------------------------ general
  // A Ping round trip; returns the time it took.
  ClientResult<std::chrono::microseconds> ping();
  // The broker's metrics in the Prometheus text format (parse them with
  // metrics_text.h).
  ClientResult<std::string> metrics_text();

  // ------------------------------------------------------------ produce
  // One batch to one partition; batch_timestamp_us -1 = broker append time.
  ClientResult<ProduceResult> produce(const std::string& topic, uint32_t partition,
                                      std::vector<ProducerRecord> records,
                                      int64_t batch_timestamp_us = protocol::kBrokerTimestamp);
  ClientResult<ProduceResult> produce(protocol::ProduceExRequest request);

  // Pipelining (see the top of this file).
  ClientStatus send_produce(protocol::ProduceExRequest request);
  ClientResult<ProduceResult> receive_produce();
  size_t in_flight() const { return in_flight_.size(); }

  // ------------------------------------------------------------- consume
  ClientResult<FetchResult> fetch(const std::string& topic, uint32_t partition, uint64_t offset,
                                  const FetchOptions& options = {});
  // spec: protocol::kListOffsetsEarliest (-2), kListOffsetsLatest (-1), or a timestamp (µs).
  ClientResult<OffsetLookup> list_offsets(const std::string& topic, uint32_t partition, int64_t spec);
  ClientResult<uint64_t> earliest_offset(const std::string& topic, uint32_t partition);
  ClientResult<uint64_t> latest_offset(const std::string& topic, uint32_t partition);
  // The first offset whose record timestamp is >= timestamp_us.
  ClientResult<OffsetLookup> offset_for_time(const std::string& topic, uint32_t partition,
                                             int64_t timestamp_us);

  // ------------------------------------------------------------- offsets
  // `offset` is the next record the group will read. Beyond the high
  // watermark the broker answers 416.
  ClientStatus commit_offset(const std::string& group, const std::string& topic, uint32_t partition,
                             uint64_t offset);
  // nullopt when the group has committed nothing for that partition.
  ClientResult<std::optional<uint64_t>> committed_offset(const std::string& group,
                                                         const std::string& topic, uint32_t partition);

  // ------------------------------------------------------------- admin
  // configs: segment.bytes, segment.ms, retention.ms, retention.bytes,
  // cleanup.policy, index.interval.bytes, flush (docs/PROTOCOL.md).
  ClientStatus create_topic(const std::string& name, uint32_t partitions,
                            std::vector<ConfigEntry> configs = {});
  ClientResult<std::vector<TopicInfo>> list_topics();
  ClientResult<TopicDescription> describe_topic(const std::string& name);
  ClientResult<uint32_t> partition_count(const std::string& topic);
  ClientStatus delete_topic(const std::string& name);
  ClientResult<std::vector<std::string>> list_groups();
  // 404 when the group has no committed offsets.
  ClientResult<std::vector<GroupOffset>> describe_group(const std::string& group);
  ClientStatus delete_group(const std::string& group);

  // Any request, answered by its response, or by a ClientError when the
  // broker answered with an Error frame (for requests this class does not wrap).
  ClientResult<protocol::Response> call(const protocol::Request& request);

 private:
  struct Pending {
    std::string topic;
    uint32_t partition = 0;
  };

  Client(BrokerAddress address, ClientOptions options);
  ClientStatus open();
  ClientStatus ready_for_call() const;
  ClientResult<protocol::Response> call_with_timeout(const protocol::Request& request,
                                                     std::chrono::milliseconds timeout);
  template <typename T>
  ClientResult<T> call_as(const protocol::Request& request,
                          std::optional<std::chrono::milliseconds> timeout = std::nullopt);
  ClientError transport_error(const Status& status);

  BrokerAddress address_;
  std::string address_str_;
  ClientOptions options_;
  std::unique_ptr<Connection> conn_;
  protocol::HandshakeResponse server_;
  std::deque<Pending> in_flight_;
};

// A Connection with the options' timeouts and frame limit; a refused connect
// says "(is the broker running there?)". No Handshake.
ClientResult<Connection> open_connection(const BrokerAddress& address, const ClientOptions& options);

// A broker's Error frame as a ClientError (source kBroker).
ClientError broker_error(const protocol::ErrorResponse& error);

}  // namespace rustlog::client
