#pragma once
// Internal to the Producer: the state shared by the callers of send(), the
// I/O thread and, with a codec, the compressor threads. producer.cpp holds the
// callers' side (send, flush, close), producer_io.cpp the I/O thread,
// producer_compressor.cpp the compressor.
//
// Compression: batches are compressed where they wait, in the accumulator's
// sealed FIFO, so every path that takes batches (sending, failing a
// partition, expiry, close) sees them in order as before. The I/O thread
// seals an open batch when it would have sent it (linger passed, or a drain,
// and a request slot free), takes only compressed batches, and writes them;
// the compressor threads take the sealed batches oldest first, each reading
// a batch's frame outside the lock (`compressing`). Only the I/O thread
// removes batches from the accumulator: before it takes any but a compressed
// front one it waits until the compressor holds none (wait_compressor_locked).
#include <atomic>
#include <condition_variable>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "client/backend.h"
#include "client/produce_channel.h"
#include "client/producer.h"
#include "client/record_accumulator.h"

namespace rustlog::client {

class Producer::Impl final : public ProducerBackend {
 public:
  Impl(BrokerAddress address, ProducerOptions options, std::unique_ptr<ProduceChannel> channel, Client meta);
  ~Impl() override;

  SendFuture send(const std::string& topic, int64_t partition, ProducerRecord record, SendCallback callback) override;
  ClientStatus flush(std::chrono::milliseconds timeout) override;
  void close(std::chrono::milliseconds timeout) override;
  ClientResult<uint32_t> partition_count(const std::string& topic) override;
  ProducerStats stats() const override;
  const std::string& broker() const override { return address_str_; }

 private:
  using BatchList = std::vector<std::unique_ptr<ProducerBatch>>;
  struct Failed {
    std::unique_ptr<ProducerBatch> batch;
    ClientError error;
  };

  // ------------------------------------------------ callers' side (producer.cpp)
  SendFuture refuse(const std::string& topic, uint32_t partition, ClientError error, const SendCallback& callback);
  ClientResult<uint32_t> lookup_partitions(const std::string& topic);
  // Wakes the I/O thread if it sleeps in poll(). mu_ held.
  void wake_locked();

  // ------------------------------------------------ I/O thread (producer_io.cpp)
  void run();
  // Moves ready batches into the channel up to max_in_flight. mu_ held.
  // False when it stopped at a batch the compressor has not finished (the
  // compressor wakes the thread when it has).
  bool fill_channel_locked(Clock::time_point now);
  bool has_ready_work_locked(Clock::time_point now) const;
  void connect_channel();
  // The connection broke: fails what was written, and what follows it per partition.
  void channel_failed(const ClientError& error);
  void handle_answers(std::vector<ProduceChannel::Answer>& answers);
  // Resolves batches (futures, callbacks, then buffer space), outside mu_;
  // a failed one takes the later batches of its partition with it.
  void resolve_ok(std::unique_ptr<ProducerBatch> batch, const protocol::ProduceExResponse& response);
  void resolve_failed(std::vector<Failed> failed);
  void release(const ProducerBatch& batch);
  void fail_everything(const std::string& why);
  // Before batches leave the accumulator other than by fill_channel_locked:
  // waits until the compressor reads no batch's frame. mu_ held by `lock`.
  void wait_compressor_locked(std::unique_lock<std::mutex>& lock);

  // ------------------------------------------------ compressor (producer_compressor.cpp)
  void compress_loop();
  void stop_compressor();

  const BrokerAddress address_;
  const std::string address_str_;
  const ProducerOptions options_;
  size_t batch_bytes_;
  uint32_t max_frame_bytes_;

  // Guarded by mu_.
  mutable std::mutex mu_;
  std::condition_variable space_cv_;  // buffer space freed, or closed
  std::condition_variable done_cv_;   // a batch resolved
  RecordAccumulator acc_;
  std::deque<std::unique_ptr<ProducerBatch>> retry_;  // never written; go before the accumulator's
  std::set<uint64_t> unresolved_;                     // seq of every batch not yet resolved
  size_t buffered_ = 0;
  int flush_waiters_ = 0;
  bool closed_ = false;  // no more sends
  bool stop_ = false;    // I/O thread: fail what is left and exit
  bool sleeping_ = false;
  std::string last_connect_error_;
  // The compressor's state.
  std::condition_variable compress_cv_;  // a batch sealed, or stop
  std::condition_variable idle_cv_;      // the compressor finished a batch
  Compression wire_compression_;         // the connected broker's: none if it lacks ProduceBatch
  size_t compressing_ = 0;               // batches whose frame a compressor reads now
  bool compressor_stop_ = false;

  // Owned by the I/O thread.
  std::unique_ptr<ProduceChannel> channel_;
  Clock::time_point next_connect_{};

  int wake_fd_ = -1;
  std::thread io_;
  std::thread::id io_id_;
  std::vector<std::thread> compressors_;  // with a codec only (compression_threads)

  std::mutex meta_mu_;  // the topic-lookup connection
  Client meta_;

  std::atomic<uint64_t> records_sent_{0}, records_acked_{0}, records_failed_{0}, batches_acked_{0},
      batches_failed_{0}, reconnects_{0};
};

}  // namespace rustlog::client
