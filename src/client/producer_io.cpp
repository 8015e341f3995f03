// The Producer's I/O thread: moves ready batches into the connection, polls
// it, resolves answers, reconnects, and applies the failure rule of
// producer.h (a failed batch takes the later batches of its partition).
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <set>
#include <utility>

#include "client/producer_impl.h"

namespace rustlog::client {

namespace {

int poll_timeout_ms(Clock::time_point now, Clock::time_point until) {
  if (until == Clock::time_point::max()) return -1;
  if (until <= now) return 0;
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(until - now).count();
  return static_cast<int>(std::min<int64_t>((us + 999) / 1000, 60'000));
}

std::string where(const ProducerBatch& b) { return b.topic() + "/" + std::to_string(b.partition()); }

ClientError follow_error(const ProducerBatch& b, const ClientError& cause) {
  return ClientError(cause.source(), cause.code(),
                     "not sent: an earlier batch of " + where(b) + " failed: " + cause.message());
}

}  // namespace

bool Producer::Impl::has_ready_work_locked(Clock::time_point now) const {
  if (!retry_.empty()) return true;
  if (acc_.empty()) return false;
  const auto d = acc_.next_deadline();
  const bool drain = flush_waiters_ > 0 || closed_;
  // Sealed batches exist when the accumulator holds more than its open ones.
  return drain || (d && *d <= now) || acc_.has_sealed();
}

bool Producer::Impl::fill_channel_locked(Clock::time_point now) {
  const bool drain = flush_waiters_ > 0 || closed_;
  const bool compressor = !compressors_.empty();
  while (channel_->in_flight() < options_.max_in_flight) {
    std::unique_ptr<ProducerBatch> b;
    if (!retry_.empty()) {
      b = std::move(retry_.front());
      retry_.pop_front();
    } else if (compressor) {
      // Seal what would be sent now (one per free slot), for the compressor;
      // then send the compressed ones, in order.
      const size_t free_slots = options_.max_in_flight - channel_->in_flight();
      bool sealed = false;
      while (acc_.sealed_count() < free_slots && acc_.seal_ready(now, drain)) sealed = true;
      if (sealed) compress_cv_.notify_one();
      const ProducerBatch* front = acc_.front_sealed();
      if (!front) break;
      if (!front->compressed) return false;
      b = acc_.next_ready(now, drain);
    } else {
      b = acc_.next_ready(now, drain);
    }
    if (!b) break;
    channel_->push(std::move(b));
  }
  return true;
}

void Producer::Impl::connect_channel() {
  auto ch = ProduceChannel::open(address_, options_.client, options_.compression);
  if (ch) {
    channel_ = std::move(*ch);
    reconnects_.fetch_add(1, std::memory_order_relaxed);
    std::lock_guard lock(mu_);
    wire_compression_ = channel_->compression();
    return;
  }
  next_connect_ = Clock::now() + options_.reconnect_backoff;
  // Nothing was written: the batches wait, up to delivery_timeout.
  std::vector<Failed> expired;
  {
    std::unique_lock lock(mu_);
    wait_compressor_locked(lock);
    last_connect_error_ = ch.error().message();
    const auto cutoff = Clock::now() - options_.delivery_timeout;
    std::set<std::pair<std::string, uint32_t>> gone;
    for (auto it = retry_.begin(); it != retry_.end();) {
      const bool same_partition = gone.count({(*it)->topic(), (*it)->partition()}) > 0;
      if ((*it)->created < cutoff || same_partition) {
        gone.insert({(*it)->topic(), (*it)->partition()});
        expired.push_back({std::move(*it), ch.error()});
        it = retry_.erase(it);
      } else {
        ++it;
      }
    }
    for (auto& b : acc_.take_created_before(cutoff)) expired.push_back({std::move(b), ch.error()});
    // The accumulator's batches of a partition whose retried batch expired fail with it.
    for (const auto& [topic, partition] : gone)
      for (auto& b : acc_.take_partition(topic, partition)) expired.push_back({std::move(b), ch.error()});
  }
  for (auto& f : expired)
    f.error = ClientError(ErrorSource::kTransport, f.error.code(),
                          "not sent within delivery_timeout (" + std::to_string(options_.delivery_timeout.count()) +
                              " ms): " + f.error.message());
  if (!expired.empty()) resolve_failed(std::move(expired));
}

void Producer::Impl::channel_failed(const ClientError& error) {
  ProduceChannel::Leftovers left = channel_->take_all();
  channel_.reset();
  next_connect_ = Clock::now();
  std::vector<Failed> failed;
  std::set<std::pair<std::string, uint32_t>> broken;
  for (auto& b : left.sent) {
    broken.insert({b->topic(), b->partition()});
    ClientError e(error.source(), error.code(),
                  where(*b) + ": " + error.message() + " (the batch was sent: it may or may not have been written)");
    failed.push_back({std::move(b), std::move(e)});
  }
  {
    std::lock_guard lock(mu_);
    // Unwritten batches go back to the front, in order, unless an earlier
    // batch of their partition was in flight.
    for (auto it = left.unsent.rbegin(); it != left.unsent.rend(); ++it) {
      if (broken.count({(*it)->topic(), (*it)->partition()})) {
        ClientError e = follow_error(**it, error);
        failed.push_back({std::move(*it), std::move(e)});
      } else {
        retry_.push_front(std::move(*it));
      }
    }
  }
  // resolve_failed() takes the accumulator's later batches of each partition.
  resolve_failed(std::move(failed));
}

void Producer::Impl::handle_answers(std::vector<ProduceChannel::Answer>& answers) {
  std::vector<Failed> failed;
  for (auto& a : answers) {
    if (a.result)
      resolve_ok(std::move(a.batch), *a.result);
    else
      failed.push_back({std::move(a.batch), a.result.error()});
  }
  answers.clear();
  if (!failed.empty()) resolve_failed(std::move(failed));
}

void Producer::Impl::resolve_ok(std::unique_ptr<ProducerBatch> batch, const protocol::ProduceExResponse& r) {
  // Counted first: whoever sees the future ready sees it in stats() too.
  records_acked_.fetch_add(batch->records, std::memory_order_relaxed);
  batches_acked_.fetch_add(1, std::memory_order_relaxed);
  batch->outcome->succeed(r.base_offset, r.append_time_us);
  for (auto& cb : batch->callbacks) cb.fn(batch->outcome->result(cb.index, cb.timestamp_us));
  release(*batch);
}

void Producer::Impl::resolve_failed(std::vector<Failed> failed) {
  for (size_t i = 0; i < failed.size(); ++i) {
    ProducerBatch& b = *failed[i].batch;
    const ClientError error = failed[i].error;  // failed grows below
    // Later batches of the partition fail too, before this one's space is
    // released (a blocked send() must not slip a record in between).
    {
      std::unique_lock lock(mu_);
      wait_compressor_locked(lock);
      BatchList later = (error.code() == ErrorCode::kTopicNotFound || error.code() == ErrorCode::kPartitionNotFound)
                            ? acc_.forget_topic(b.topic())
                            : acc_.take_partition(b.topic(), b.partition());
      if (channel_)
        for (auto& l : channel_->take_unwritten(b.topic(), b.partition())) later.push_back(std::move(l));
      for (auto& l : later) {
        ClientError e = follow_error(*l, error);
        failed.push_back({std::move(l), std::move(e)});
      }
    }
    records_failed_.fetch_add(b.records, std::memory_order_relaxed);
    batches_failed_.fetch_add(1, std::memory_order_relaxed);
    b.outcome->fail(error);
    for (auto& cb : b.callbacks) cb.fn(b.outcome->result(cb.index, cb.timestamp_us));
    release(b);
  }
}

void Producer::Impl::release(const ProducerBatch& batch) {
  std::lock_guard lock(mu_);
  buffered_ -= batch.reserved_bytes;
  unresolved_.erase(batch.seq);
  space_cv_.notify_all();
  done_cv_.notify_all();
}

void Producer::Impl::fail_everything(const std::string& why) {
  std::vector<Failed> failed;
  if (channel_) {
    auto left = channel_->take_all();
    for (auto& b : left.sent)
      failed.push_back({std::move(b), ClientError(ErrorSource::kClient, ErrorCode::kTimedOut,
                                                  why + " while the batch was in flight: it may or may not have "
                                                        "been written")});
    for (auto& b : left.unsent)
      failed.push_back({std::move(b), ClientError(ErrorSource::kClient, ErrorCode::kTimedOut, why)});
    channel_.reset();
  }
  {
    std::unique_lock lock(mu_);
    wait_compressor_locked(lock);
    for (auto& b : retry_) failed.push_back({std::move(b), ClientError(ErrorSource::kClient, ErrorCode::kTimedOut, why)});
    retry_.clear();
    for (auto& b : acc_.take_all())
      failed.push_back({std::move(b), ClientError(ErrorSource::kClient, ErrorCode::kTimedOut, why)});
  }
  resolve_failed(std::move(failed));
}

void Producer::Impl::run() {
  std::vector<ProduceChannel::Answer> answers;
  for (;;) {
    Clock::time_point now = Clock::now();
    Clock::time_point wake_at = Clock::time_point::max();
    bool want_connect = false;
    {
      std::unique_lock lock(mu_);
      if (stop_) break;
      if (closed_ && acc_.empty() && retry_.empty() && (!channel_ || channel_->in_flight() == 0)) break;
      if (channel_) {
        // Stopped at a batch being compressed: the compressor wakes us.
        const bool filled = fill_channel_locked(now);
        if (filled && channel_->in_flight() < options_.max_in_flight)
          if (auto d = acc_.next_deadline()) wake_at = std::min(wake_at, *d);
        wake_at = std::min(wake_at, channel_->answer_deadline());
      } else if (has_ready_work_locked(now)) {
        if (now >= next_connect_)
          want_connect = true;
        else
          wake_at = next_connect_;
      } else if (auto d = acc_.next_deadline()) {
        wake_at = *d;
      }
      if (!want_connect) sleeping_ = true;
    }
    if (want_connect) {
      connect_channel();
      continue;
    }
    ClientStatus io;
    if (channel_ && channel_->wants_write()) io = channel_->write_some();
    pollfd fds[2] = {{wake_fd_, POLLIN, 0}, {-1, 0, 0}};
    nfds_t nfds = 1;
    if (io && channel_) {
      fds[1] = {channel_->fd(), static_cast<short>(POLLIN | (channel_->wants_write() ? POLLOUT : 0)), 0};
      nfds = 2;
    }
    if (io) {
      const int rc = ::poll(fds, nfds, poll_timeout_ms(now, wake_at));
      (void)rc;  // EINTR or a timeout: the loop re-evaluates
    }
    {
      std::lock_guard lock(mu_);
      sleeping_ = false;
    }
    if (fds[0].revents & POLLIN) {
      uint64_t v;
      (void)!::read(wake_fd_, &v, sizeof v);
    }
    if (!io) {
      channel_failed(io.error());
      continue;
    }
    if (!channel_) continue;
    if (fds[1].revents & (POLLIN | POLLERR | POLLHUP)) io = channel_->read_some(answers);
    handle_answers(answers);
    if (io && (fds[1].revents & POLLOUT)) io = channel_->write_some();
    if (io && Clock::now() >= channel_->answer_deadline())
      io = ClientError(ErrorSource::kTransport, ErrorCode::kTransport,
                       "no answer from " + channel_->peer() + " within request_timeout (" +
                           std::to_string(options_.client.request_timeout.count()) + " ms)");
    if (!io) channel_failed(io.error());
  }
  fail_everything(stop_ ? "producer closed before the record was answered" : "producer closed");
}

}  // namespace rustlog::client
