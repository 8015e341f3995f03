#pragma once
// The two implementations behind Producer and Consumer, chosen by the
// address (docs/CLIENT.md, "RustLog or Kafka"):
//
//   "127.0.0.1:9092"                 RustLog: this library's own protocol
//   "kafka://k1:9092,k2:9092"        Apache Kafka, through librdkafka
//
// The Kafka implementation lives in the separate library rustlog_client_kafka
// (src/client/kafka/, built only with librdkafka: RUSTLOG_WITH_KAFKA). This
// library finds it at link time: a program that links rustlog_client_kafka
// gets kafka:// addresses; one that does not gets a 400 saying how to
// rebuild, and never needs librdkafka.
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "client/consumer.h"
#include "client/errors.h"
#include "client/producer.h"

namespace rustlog::client {

inline constexpr std::string_view kKafkaScheme = "kafka://";

// True for "kafka://...".
bool is_kafka_address(std::string_view address);

// "kafka://h1:9092,h2" -> "h1:9092,h2:9092" (librdkafka's bootstrap.servers;
// a missing port is 9092). 400 for an empty list or a bad host:port.
ClientResult<std::string> kafka_bootstrap_servers(std::string_view address);

// Whether this program was linked with rustlog_client_kafka.
bool kafka_supported();

// What Producer forwards to. Producer::Impl is the RustLog one.
class ProducerBackend {
 public:
  virtual ~ProducerBackend() = default;
  // partition < 0: the partitioning rule of producer.h.
  virtual SendFuture send(const std::string& topic, int64_t partition, ProducerRecord record,
                          SendCallback callback) = 0;
  virtual ClientStatus flush(std::chrono::milliseconds timeout) = 0;
  virtual void close(std::chrono::milliseconds timeout) = 0;
  virtual ClientResult<uint32_t> partition_count(const std::string& topic) = 0;
  virtual ProducerStats stats() const = 0;
  virtual const std::string& broker() const = 0;
};

// What a kafka:// Consumer forwards to (a RustLog Consumer does the work
// itself, consumer.cpp). Each call has the contract of consumer.h.
class ConsumerBackend {
 public:
  virtual ~ConsumerBackend() = default;
  virtual ClientStatus subscribe(const std::string& topic) = 0;
  virtual ClientStatus assign(const std::string& topic, std::vector<uint32_t> partitions) = 0;
  virtual ClientStatus seek(uint32_t partition, uint64_t offset) = 0;
  virtual ClientStatus seek_to_beginning() = 0;
  virtual ClientStatus seek_to_end() = 0;
  virtual ClientStatus seek_to_time(int64_t timestamp_us) = 0;
  virtual ClientResult<std::vector<ConsumerRecord>> poll(std::chrono::milliseconds timeout, size_t max_records) = 0;
  virtual ClientStatus commit() = 0;
  virtual ClientStatus close() = 0;
  virtual ClientStatus resolve_positions() = 0;
  virtual const std::string& topic() const = 0;
  virtual std::vector<PartitionPosition> positions() const = 0;
  virtual std::optional<uint64_t> position(uint32_t partition) const = 0;
  virtual uint64_t uncommitted() const = 0;
};

// A Kafka-backed Producer / Consumer for a kafka:// address: 400 when this
// program has no Kafka support, else whatever connecting found.
ClientResult<std::unique_ptr<ProducerBackend>> open_kafka_producer(std::string_view address,
                                                                   const ProducerOptions& options);
ClientResult<std::unique_ptr<ConsumerBackend>> open_kafka_consumer(std::string_view address,
                                                                   const ConsumerOptions& options,
                                                                   const ClientOptions& client_options);

namespace detail {
// Defined by rustlog_client_kafka (client/kafka/kafka_factory.cpp); referenced
// weakly by open_kafka_*, so they are null when that library is not linked.
ClientResult<std::unique_ptr<ProducerBackend>> make_kafka_producer(const std::string& address,
                                                                   const std::string& bootstrap,
                                                                   const ProducerOptions& options);
ClientResult<std::unique_ptr<ConsumerBackend>> make_kafka_consumer(const std::string& address,
                                                                   const std::string& bootstrap,
                                                                   const ConsumerOptions& options,
                                                                   const ClientOptions& client_options);
}  // namespace detail

}  // namespace rustlog::client
