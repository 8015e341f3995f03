// The Producer's callers' side: connect, send, flush, close. The I/O thread
// is in producer_io.cpp.
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "client/backend.h"
#include "client/producer_impl.h"

namespace rustlog::client {

namespace {

ClientError client_error(ErrorCode code, std::string message) {
  return ClientError(ErrorSource::kClient, code, std::move(message));
}

ClientStatus check_options(const ProducerOptions& o) {
  if (o.batch_bytes < 64) return ClientError::invalid_argument("producer: batch_bytes must be at least 64");
  if (o.max_in_flight < 1) return ClientError::invalid_argument("producer: max_in_flight must be at least 1");
  if (o.compression.codec != Codec::kNone && (o.compression_threads < 1 || o.compression_threads > 64))
    return ClientError::invalid_argument("producer: compression_threads must be 1..64 with a codec");
  if (auto c = parse_compression(compression_to_string(o.compression)); !c || *c != o.compression)
    return ClientError::invalid_argument("producer: compression level " + std::to_string(o.compression.level) +
                                         " is out of range for " + codec_name(o.compression.codec) +
                                         " (lz4 0-12, zstd -7-22, none 0)");
  if (o.buffer_bytes < o.batch_bytes)
    return ClientError::invalid_argument("producer: buffer_bytes (" + std::to_string(o.buffer_bytes) +
                                         ") must be at least batch_bytes (" + std::to_string(o.batch_bytes) + ")");
  if (o.linger.count() < 0 || o.max_block.count() < 0 || o.delivery_timeout.count() <= 0 ||
      o.reconnect_backoff.count() < 0)
    return ClientError::invalid_argument(
        "producer: linger, max_block and reconnect_backoff must be >= 0, delivery_timeout > 0");
  return {};
}

// Each caller thread encodes into its own scratch string, outside the lock.
thread_local std::string t_scratch;

}  // namespace

// ------------------------------------------------------------------ Producer

ClientResult<Producer> Producer::connect(std::string_view broker, ProducerOptions options) {
  if (ClientStatus st = check_options(options); !st) return st.error();
  if (is_kafka_address(broker)) {
    auto kafka = open_kafka_producer(broker, options);
    if (!kafka) return kafka.error();
    return Producer(std::move(*kafka));
  }
  auto address = parse_broker_address(broker);
  if (!address) return address.error();
  auto channel = ProduceChannel::open(*address, options.client, options.compression);
  if (!channel) return channel.error();
  auto meta = Client::connect(*address, options.client);
  if (!meta) return meta.error();
  return Producer(std::make_unique<Impl>(std::move(*address), std::move(options), std::move(*channel),
                                         std::move(*meta)));
}

Producer::Producer(std::unique_ptr<ProducerBackend> impl) : impl_(std::move(impl)) {}
Producer::Producer(Producer&&) noexcept = default;
Producer& Producer::operator=(Producer&&) noexcept = default;
Producer::~Producer() = default;

SendFuture Producer::send(const std::string& topic, ProducerRecord record, SendCallback callback) {
  return impl_->send(topic, -1, std::move(record), std::move(callback));
}

SendFuture Producer::send(const std::string& topic, uint32_t partition, ProducerRecord record,
                          SendCallback callback) {
  return impl_->send(topic, partition, std::move(record), std::move(callback));
}

ClientStatus Producer::flush(std::chrono::milliseconds timeout) { return impl_->flush(timeout); }
void Producer::close(std::chrono::milliseconds timeout) {
  if (impl_) impl_->close(timeout);
}
ClientResult<uint32_t> Producer::partition_count(const std::string& topic) { return impl_->partition_count(topic); }
ProducerStats Producer::stats() const { return impl_->stats(); }
const std::string& Producer::broker() const { return impl_->broker(); }

// ------------------------------------------------------------------ Impl

Producer::Impl::Impl(BrokerAddress address, ProducerOptions options, std::unique_ptr<ProduceChannel> channel,
                     Client meta)
    : address_(std::move(address)),
      address_str_(address_.to_string()),
      options_(std::move(options)),
      batch_bytes_(std::min<size_t>(options_.batch_bytes, channel->max_frame_bytes())),
      max_frame_bytes_(channel->max_frame_bytes()),
      acc_({batch_bytes_, options_.batch_records, options_.linger, options_.unkeyed,
            options_.compression.codec != Codec::kNone}),
      wire_compression_(channel->compression()),
      channel_(std::move(channel)),
      meta_(std::move(meta)) {
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (options_.compression.codec != Codec::kNone)
    for (uint32_t i = 0; i < options_.compression_threads; ++i) compressors_.emplace_back([this] { compress_loop(); });
  io_ = std::thread([this] { run(); });
  io_id_ = io_.get_id();
}

Producer::Impl::~Impl() {
  close(std::chrono::milliseconds(0));
  stop_compressor();
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void Producer::Impl::wake_locked() {
  if (!sleeping_) return;
  sleeping_ = false;
  const uint64_t one = 1;
  // A full counter (never in practice) still leaves the fd readable.
  (void)!::write(wake_fd_, &one, sizeof one);
}

SendFuture Producer::Impl::refuse(const std::string& topic, uint32_t partition, ClientError error,
                                  const SendCallback& callback) {
  records_failed_.fetch_add(1, std::memory_order_relaxed);
  SendFuture f = failed_send(topic, partition, std::move(error));
  if (callback) callback(f.get());
  return f;
}

ClientResult<uint32_t> Producer::Impl::lookup_partitions(const std::string& topic) {
  std::lock_guard lock(meta_mu_);
  if (!meta_.connected()) {
    if (ClientStatus st = meta_.reconnect(); !st) return st.error();
  }
  return meta_.partition_count(topic);
}

ClientResult<uint32_t> Producer::Impl::partition_count(const std::string& topic) {
  {
    std::lock_guard lock(mu_);
    if (acc_.knows(topic)) return acc_.partition_count(topic);
  }
  auto n = lookup_partitions(topic);
  if (!n) return n.error();
  std::lock_guard lock(mu_);
  acc_.add_topic(topic, *n);
  return acc_.partition_count(topic);
}

SendFuture Producer::Impl::send(const std::string& topic, int64_t partition, ProducerRecord record,
                                SendCallback callback) {
  const uint32_t shown = partition >= 0 ? static_cast<uint32_t>(partition) : 0;
  std::string& enc = t_scratch;
  enc.clear();
  if (Status st = protocol::ProduceExEncoder::encode(record, enc); !st)
    return refuse(topic, shown, ClientError(ErrorSource::kClient, st.code(), st.message()), callback);
  const size_t bytes = enc.size();
  if (protocol::ProduceExEncoder::head_bytes(topic) + bytes > max_frame_bytes_ || bytes > options_.buffer_bytes)
    return refuse(topic, shown,
                  client_error(ErrorCode::kTooLarge,
                               "record of " + std::to_string(bytes) + " encoded bytes exceeds the largest request (" +
                                   std::to_string(max_frame_bytes_) + " bytes) or buffer_bytes (" +
                                   std::to_string(options_.buffer_bytes) + ")"),
                  callback);

  std::unique_lock lock(mu_);
  if (closed_) return lock.unlock(), refuse(topic, shown, ClientError::invalid_argument("producer is closed"), callback);
  if (!acc_.knows(topic)) {
    lock.unlock();
    auto n = lookup_partitions(topic);
    if (!n) return refuse(topic, shown, n.error(), callback);
    lock.lock();
    acc_.add_topic(topic, *n);
  }
  const uint32_t count = acc_.partition_count(topic);
  if (partition >= 0 && static_cast<uint64_t>(partition) >= count) {
    lock.unlock();
    return refuse(topic, shown,
                  client_error(ErrorCode::kPartitionNotFound,
                               "partition " + std::to_string(partition) + " does not exist: topic " + topic +
                                   " has " + std::to_string(count) + " partition" + (count == 1 ? "" : "s")),
                  callback);
  }
  if (buffered_ + bytes > options_.buffer_bytes) {
    // The I/O thread frees space: it must never wait for it (a callback may send).
    const bool may_block = options_.block_when_full && std::this_thread::get_id() != io_id_;
    const auto deadline = Clock::now() + options_.max_block;
    while (may_block && !closed_ && buffered_ + bytes > options_.buffer_bytes)
      if (space_cv_.wait_until(lock, deadline) == std::cv_status::timeout) break;
    if (closed_) return lock.unlock(), refuse(topic, shown, ClientError::invalid_argument("producer is closed"), callback);
    if (buffered_ + bytes > options_.buffer_bytes) {
      lock.unlock();
      return refuse(topic, shown,
                    client_error(ErrorCode::kBufferFull,
                                 "producer buffer full: " + std::to_string(buffered_) + " of " +
                                     std::to_string(options_.buffer_bytes) + " bytes held" +
                                     (may_block ? " for max_block (" + std::to_string(options_.max_block.count()) +
                                                      " ms)"
                                                : "") +
                                     "; the broker is slower than the senders, or unreachable"),
                    callback);
    }
    // The topic may have been forgotten (404) while we waited.
    if (!acc_.knows(topic)) acc_.add_topic(topic, count);
  }
  const bool sticky = partition < 0 && !record.key && options_.unkeyed == UnkeyedPartitioning::kSticky;
  const uint32_t p = acc_.choose_partition(topic, record, partition);
  buffered_ += bytes;
  auto a = acc_.append(topic, p, enc, sticky, record.timestamp_us, std::move(callback), Clock::now());
  if (a.opened) unresolved_.insert(acc_.batches_created() - 1);
  if (a.opened || a.sealed) wake_locked();
  if (a.sealed && !compressors_.empty()) compress_cv_.notify_one();
  records_sent_.fetch_add(1, std::memory_order_relaxed);
  return std::move(a.future);
}

ClientStatus Producer::Impl::flush(std::chrono::milliseconds timeout) {
  if (std::this_thread::get_id() == io_id_)
    return ClientError::invalid_argument("flush() cannot be called from a send callback");
  std::unique_lock lock(mu_);
  const uint64_t target = acc_.batches_created();
  auto done = [&] { return unresolved_.empty() || *unresolved_.begin() >= target; };
  ++flush_waiters_;
  wake_locked();
  bool ok = true;
  if (timeout.count() > 0)
    ok = done_cv_.wait_for(lock, timeout, done);
  else
    done_cv_.wait(lock, done);
  --flush_waiters_;
  if (!ok)
    return client_error(ErrorCode::kTimedOut, "flush: records still unanswered after " +
                                                  std::to_string(timeout.count()) + " ms");
  return {};
}

void Producer::Impl::close(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  closed_ = true;
  space_cv_.notify_all();
  wake_locked();
  if (std::this_thread::get_id() == io_id_) return;  // from a callback: the thread ends by itself
  if (!io_.joinable()) return;
  auto done = [&] { return unresolved_.empty(); };
  if (timeout.count() > 0) {
    if (!done_cv_.wait_for(lock, timeout, done)) {
      stop_ = true;
      wake_locked();
    }
  } else {
    done_cv_.wait(lock, done);
  }
  lock.unlock();
  io_.join();
  stop_compressor();
  std::lock_guard meta_lock(meta_mu_);
  meta_.close();
}

ProducerStats Producer::Impl::stats() const {
  ProducerStats s;
  s.records_sent = records_sent_.load();
  s.records_acked = records_acked_.load();
  s.records_failed = records_failed_.load();
  s.batches_acked = batches_acked_.load();
  s.batches_failed = batches_failed_.load();
  s.reconnects = reconnects_.load();
  std::lock_guard lock(mu_);
  s.buffered_bytes = buffered_;
  return s;
}

}  // namespace rustlog::client
