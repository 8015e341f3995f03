#pragma once
// A batching, pipelining producer (docs/CLIENT.md, "Producer"). send() is
// thread-safe and returns at once with a SendFuture; records accumulate per
// partition into one ProduceEx request each, sent when it reaches
// batch_bytes or has waited `linger`, with up to max_in_flight requests
// outstanding on the Producer's one connection. An I/O thread owned by the
// Producer writes the requests, reads the answers and resolves the futures
// and callbacks; with a codec, compression_threads more compress the batches
// before that (docs/CLIENT.md, "Compression").
//
//   auto p = client::Producer::connect("127.0.0.1:9092");
//   if (!p) { std::cerr << p.error().to_string() << "\n"; return 1; }
//   for (int i = 0; i < 1000; ++i) p->send("orders", client::record("order " + std::to_string(i), "customer-7"));
//   auto last = p->send("orders", client::record("done"));
//   p->flush();                        // every record sent so far is answered
//   std::cout << last.get()->offset;   // or: the ClientError
//
// Partition: an explicit one wins; else a key's FNV-1a hash (partitioner.h);
// else `unkeyed` decides.
//
// Order and failure: one connection and the broker's in-order answers keep a
// partition's batches in send order, several in flight. A batch is never
// resent once any of its bytes were written, so nothing is duplicated or
// reordered by the Producer. When a batch fails, every later batch of that
// partition not yet written fails with it (message "not sent: an earlier
// batch of T/P failed: ..."); when the connection breaks, every batch in
// flight fails (its records may or may not have been written) and so do the
// later ones of those partitions. Batches not yet written wait across
// reconnects until delivery_timeout.
//
// The address picks the implementation (client/backend.h): "host:port" is
// RustLog and everything above holds; "kafka://host:9092[,host:9092]" is
// Apache Kafka through librdkafka (idempotent, acks=all; docs/CLIENT.md,
// "RustLog or Kafka", says what differs), in programs linked with
// rustlog_client_kafka, else connect() fails with 400.
//
// Memory: at most buffer_bytes of encoded records are held (batching, in
// flight, awaiting answers); when full, send() blocks up to max_block, or
// fails at once with 429 when block_when_full is false.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "client/client.h"
#include "client/errors.h"
#include "client/partitioner.h"
#include "client/send_future.h"
#include "common/compression.h"

namespace rustlog::client {

struct ProducerOptions {
  // A batch is sent once its request reaches this size (a larger record
  // travels alone). Capped to the broker's frame limit.
  size_t batch_bytes = 1 << 20;
  // And at this many records (0 = no limit).
  uint32_t batch_records = 0;
  // How long a batch waits for more records before it is sent. 0: send as
  // soon as a request slot is free (batches still form while all are busy).
  std::chrono::microseconds linger{std::chrono::milliseconds(5)};
  // Requests written and not yet answered, on the one connection.
  uint32_t max_in_flight = 5;
  // Encoded bytes held by the Producer at most.
  size_t buffer_bytes = 64ull << 20;
  // When the buffer is full: true = send() waits up to max_block (then
  // fails with 429), false = send() fails at once with 429.
  bool block_when_full = true;
  std::chrono::milliseconds max_block{60000};
  // A batch not written to the broker within this time of its creation
  // fails with 520 Transport (broker unreachable meanwhile).
  std::chrono::milliseconds delivery_timeout{120000};
  // Wait between reconnect attempts.
  std::chrono::milliseconds reconnect_backoff{100};
  // Each batch's records compressed as one block (docs/CLIENT.md,
  // "Compression"): {Codec::kLz4} or {Codec::kZstd, level}; sent as a
  // ProduceBatch the broker stores as it is. none (the default) sends
  // ProduceEx. parse_compression("zstd:9") reads the CLI form.
  Compression compression;
  // Threads compressing sealed batches (with a codec only): each takes the
  // oldest batch no other holds, and batches still leave in order. One
  // zstd level-3 thread compresses about 200 MB/s of log lines here, less
  // than one connection sends uncompressed; two keep up with it.
  uint32_t compression_threads = 2;
  // Partition 0, as `rustlog produce` and the Python client; kSticky spreads them.
  UnkeyedPartitioning unkeyed = UnkeyedPartitioning::kFirstPartition;
  // Connect and request timeouts, client id, frame limit (request_timeout
  // bounds how long a written batch waits for its answer).
  ClientOptions client;
};

// Counters since the Producer was made (a snapshot; any thread).
struct ProducerStats {
  uint64_t records_sent = 0;     // accepted by send()
  uint64_t records_acked = 0;    // resolved with an offset
  uint64_t records_failed = 0;   // resolved with an error (refused sends included)
  uint64_t batches_acked = 0;
  uint64_t batches_failed = 0;
  uint64_t buffered_bytes = 0;   // held now
  uint64_t reconnects = 0;
};

class ProducerBackend;

class Producer {
 public:
  // Connects (the I/O connection and one for topic lookups) and starts the
  // I/O thread. Fails when the broker cannot be reached (503) or the options
  // are invalid (400). A kafka:// address connects to Kafka instead.
  static ClientResult<Producer> connect(std::string_view broker, ProducerOptions options = {});

  Producer(Producer&&) noexcept;
  Producer& operator=(Producer&&) noexcept;
  ~Producer();  // close()

  // Queues the record for `topic` (partition per the rule above). The future
  // (and the callback, if any) fails at once for an unknown topic (404), a
  // partition out of range (405), a record that cannot be encoded (400) or
  // is larger than a request or the buffer may be (413), a full buffer (429),
  // or a closed Producer (400).
  SendFuture send(const std::string& topic, ProducerRecord record, SendCallback callback = {});
  // The same, to an explicit partition.
  SendFuture send(const std::string& topic, uint32_t partition, ProducerRecord record,
                  SendCallback callback = {});

  // Sends every batch now and waits until each record sent before the call
  // is answered (acknowledged or failed). A kClient 408 error when `timeout`
  // passes first (0 = no limit).
  ClientStatus flush(std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

  // Refuses new sends, flushes for up to `timeout` (0 = no limit), then fails
  // whatever is left, stops the I/O thread (and the compressor threads, with a
  // codec set) and closes the connections.
  // Idempotent.
  void close(std::chrono::milliseconds timeout = std::chrono::milliseconds(0));

  // The partition count send() uses for the topic (looked up once per topic).
  ClientResult<uint32_t> partition_count(const std::string& topic);

  ProducerStats stats() const;
  const std::string& broker() const;

  class Impl;

 private:
  explicit Producer(std::unique_ptr<ProducerBackend> impl);
  std::unique_ptr<ProducerBackend> impl_;
};

}  // namespace rustlog::client
