#include "client/send_future.h"

namespace rustlog::client {
namespace detail {

void BatchOutcome::succeed(uint64_t base_offset, int64_t append_time_us) {
  base_offset_ = base_offset;
  append_time_us_ = append_time_us;
  publish();
}

void BatchOutcome::fail(ClientError error) {
  error_ = std::move(error);
  publish();
}

void BatchOutcome::publish() {
  std::lock_guard lock(mu_);
  done_.store(true, std::memory_order_release);
  if (waiters_ > 0) cv_.notify_all();
}

void BatchOutcome::wait() const {
  if (done()) return;
  std::unique_lock lock(mu_);
  ++waiters_;
  cv_.wait(lock, [&] { return done(); });
  --waiters_;
}

bool BatchOutcome::wait_until(std::chrono::steady_clock::time_point deadline) const {
  if (done()) return true;
  std::unique_lock lock(mu_);
  ++waiters_;
  const bool ok = cv_.wait_until(lock, deadline, [&] { return done(); });
  --waiters_;
  return ok;
}

ClientResult<RecordMetadata> BatchOutcome::result(uint32_t index, int64_t record_timestamp_us) const {
  if (error_) return *error_;
  return RecordMetadata{topic_, partition_, base_offset_ + index,
                        record_timestamp_us >= 0 ? record_timestamp_us : append_time_us_};
}

}  // namespace detail

ClientResult<RecordMetadata> SendFuture::get() const {
  if (!outcome_) return ClientError::invalid_argument("SendFuture::get on a future that holds no send");
  outcome_->wait();
  return outcome_->result(index_, timestamp_us_);
}

SendFuture failed_send(const std::string& topic, uint32_t partition, ClientError error) {
  auto o = std::make_shared<detail::BatchOutcome>(topic, partition);
  o->fail(std::move(error));
  return SendFuture(std::move(o), 0, -1);
}

}  // namespace rustlog::client
