#pragma once
// The Producer on Apache Kafka (a kafka:// address): librdkafka with the
// idempotent producer and acks=all, behind producer.h's contract.
//
// What maps how (docs/CLIENT.md, "RustLog or Kafka"):
// - partition: the Producer's own rule (explicit, else FNV-1a of the key
//   over the topic's partition count, else `unkeyed`), never librdkafka's,
//   so a key lands on the same partition number on both systems; kSticky
//   moves on after batch_bytes of records;
// - batch_bytes, batch_records, linger, max_in_flight, delivery_timeout,
//   reconnect_backoff, the connect and request timeouts and client_id become
//   librdkafka's batch.size, batch.num.messages, linger.ms,
//   max.in.flight.requests.per.connection (at most 5 with idempotence),
//   message.timeout.ms, reconnect.backoff.ms,
//   socket.connection.setup.timeout.ms, request.timeout.ms and client.id;
//   ClientOptions::kafka_config comes last and may override any of them;
// - buffer_bytes, block_when_full and max_block are enforced here, on the
//   bytes of key, value and headers, as on RustLog;
// - timestamps go in ms (Kafka's unit); a record without one gets the
//   producer's clock at send() (Kafka's CreateTime), not the broker's append
//   time; RecordMetadata has the time as sent (µs as given, or the clock's
//   ms), also on a topic whose Kafka config says LogAppendTime;
// - linger is capped below delivery_timeout and at 900 s (librdkafka's limits);
// - order and failure: librdkafka's idempotent producer keeps each
//   partition's records in send order through retries and never duplicates
//   them; a record fails when Kafka refuses it or delivery_timeout passes.
//
// Delivery reports arrive as events on the Producer's own thread, which
// resolves the futures and runs the callbacks (in send order per partition).
#include <librdkafka/rdkafka.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>

#include "client/backend.h"
#include "client/kafka/kafka_common.h"

namespace rustlog::client::kafka {

class KafkaProducer final : public ProducerBackend {
 public:
  // Creates the librdkafka producer and checks that the cluster answers a
  // metadata request within connect_timeout (503 otherwise).
  static ClientResult<std::unique_ptr<ProducerBackend>> open(const std::string& address,
                                                             const std::string& bootstrap,
                                                             const ProducerOptions& options);
  ~KafkaProducer() override;

  SendFuture send(const std::string& topic, int64_t partition, ProducerRecord record,
                  SendCallback callback) override;
  ClientStatus flush(std::chrono::milliseconds timeout) override;
  void close(std::chrono::milliseconds timeout) override;
  ClientResult<uint32_t> partition_count(const std::string& topic) override;
  ProducerStats stats() const override;
  const std::string& broker() const override { return address_; }

 private:
  struct Sticky {
    uint32_t partition = 0;
    size_t bytes = 0;
  };

  KafkaProducer(std::string address, ProducerOptions options, Handle rk);
  SendFuture refuse(const std::string& topic, uint32_t partition, ClientError error, const SendCallback& callback);
  ClientResult<uint32_t> lookup_partitions(const std::string& topic);
  uint32_t choose_partition(const std::string& topic, const ProducerRecord& record, uint32_t count, size_t bytes);
  // The event thread: delivery reports and errors.
  void run();
  void delivered(const rd_kafka_message_t* m);

  const std::string address_;
  const ProducerOptions options_;
  Handle rk_;
  rd_kafka_queue_t* events_ = nullptr;

  mutable std::mutex mu_;
  std::condition_variable space_cv_;  // buffer space freed, or closed
  std::condition_variable done_cv_;   // a record resolved
  std::map<std::string, uint32_t> partitions_;  // topic -> count, looked up once
  std::map<std::string, Sticky> sticky_;
  std::set<uint64_t> unresolved_;  // seq of every record handed to librdkafka and not yet reported
  uint64_t next_seq_ = 0;
  size_t buffered_ = 0;
  bool closed_ = false;

  std::mutex meta_mu_;  // one metadata request at a time
  std::atomic<bool> stop_{false};
  std::thread events_thread_;
  std::thread::id events_id_;

  std::atomic<uint64_t> records_sent_{0}, records_acked_{0}, records_failed_{0};
};

}  // namespace rustlog::client::kafka
