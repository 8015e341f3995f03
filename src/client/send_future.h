#pragma once
// What Producer::send() hands back: a future resolved with the record's
// offset or a ClientError, and the callback type. Every record of one batch
// shares one outcome (one allocation and one broker answer per batch); a
// future is that outcome plus the record's place in the batch.
//
//   client::SendFuture f = producer.send("orders", client::record("v", "k"));
//   auto md = f.get();                        // waits for the broker's answer
//   if (md) std::cout << md->partition << "@" << md->offset << "\n";
#include <chrono>
#include <condition_variable>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "client/errors.h"

namespace rustlog::client {

// Where an acknowledged record landed.
struct RecordMetadata {
  std::string topic;
  uint32_t partition = 0;
  uint64_t offset = 0;
  // The record's own timestamp when it had one, else the broker's append time.
  int64_t timestamp_us = 0;
};

// Runs once per record on the Producer's I/O thread, in send order within a
// partition. Keep it short: the next batch waits for it.
using SendCallback = std::function<void(const ClientResult<RecordMetadata>&)>;

namespace detail {

// The outcome of one batch, shared by its futures. Written once.
class BatchOutcome {
 public:
  BatchOutcome(std::string topic, uint32_t partition) : topic_(std::move(topic)), partition_(partition) {}

  void succeed(uint64_t base_offset, int64_t append_time_us);
  void fail(ClientError error);

  bool done() const { return done_.load(std::memory_order_acquire); }
  void wait() const;
  bool wait_until(std::chrono::steady_clock::time_point deadline) const;
  // The result for the record at `index` (call once done()).
  ClientResult<RecordMetadata> result(uint32_t index, int64_t record_timestamp_us) const;

  const std::string& topic() const { return topic_; }
  uint32_t partition() const { return partition_; }

 private:
  void publish();

  const std::string topic_;
  const uint32_t partition_;
  uint64_t base_offset_ = 0;
  int64_t append_time_us_ = 0;
  std::optional<ClientError> error_;
  std::atomic<bool> done_{false};
  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  mutable int waiters_ = 0;  // guarded by mu_: skip the notify when nobody waits
};

}  // namespace detail

class SendFuture {
 public:
  SendFuture() = default;  // not valid(): get() fails with a kClient error
  SendFuture(std::shared_ptr<const detail::BatchOutcome> outcome, uint32_t index, int64_t record_timestamp_us)
      : outcome_(std::move(outcome)), index_(index), timestamp_us_(record_timestamp_us) {}

  bool valid() const { return outcome_ != nullptr; }
  // True once the broker answered (or the send failed).
  bool ready() const { return outcome_ && outcome_->done(); }
  // Waits for the outcome. Safe to call more than once, from any thread.
  ClientResult<RecordMetadata> get() const;
  // Waits at most `timeout`; true when the outcome is there.
  template <typename Rep, typename Period>
  bool wait_for(std::chrono::duration<Rep, Period> timeout) const {
    if (!outcome_) return true;
    return outcome_->wait_until(std::chrono::steady_clock::now() +
                                std::chrono::duration_cast<std::chrono::steady_clock::duration>(timeout));
  }

 private:
  std::shared_ptr<const detail::BatchOutcome> outcome_;
  uint32_t index_ = 0;
  int64_t timestamp_us_ = -1;
};

// A future that is already failed, for sends refused before they were batched.
SendFuture failed_send(const std::string& topic, uint32_t partition, ClientError error);

}  // namespace rustlog::client
