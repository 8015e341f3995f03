#include "client/kafka/kafka_producer.h"

#include <algorithm>

#include "client/partitioner.h"

namespace rustlog::client::kafka {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// One per record handed to librdkafka; comes back in its delivery report.
struct Ticket {
  std::shared_ptr<detail::BatchOutcome> outcome;
  SendCallback callback;
  int64_t timestamp_us = -1;
  uint64_t seq = 0;
  size_t bytes = 0;
  std::string topic;
};

size_t record_bytes(const ProducerRecord& r) {
  size_t n = (r.key ? r.key->size() : 0) + (r.value ? r.value->size() : 0);
  for (const auto& h : r.headers) n += h.name.size() + h.value.size();
  return n;
}

std::string ms(milliseconds d) { return std::to_string(d.count()); }

}  // namespace

ClientResult<std::unique_ptr<ProducerBackend>> KafkaProducer::open(const std::string& address,
                                                                   const std::string& bootstrap,
                                                                   const ProducerOptions& o) {
  const ClientOptions& c = o.client;
  ConfigPairs pairs = {
      {"enable.idempotence", "true"},
      {"acks", "all"},
      // librdkafka wants linger.ms <= 900000 and below message.timeout.ms.
      {"linger.ms", std::to_string(std::min<double>({static_cast<double>(o.linger.count()) / 1000.0, 900000.0,
                                                     static_cast<double>(o.delivery_timeout.count()) - 1.0}))},
      {"batch.size", std::to_string(std::min<size_t>(o.batch_bytes, 2147483647))},
      {"max.in.flight.requests.per.connection", std::to_string(o.max_in_flight)},
      {"message.timeout.ms", ms(o.delivery_timeout)},
      {"reconnect.backoff.ms", ms(o.reconnect_backoff)},
      {"reconnect.backoff.max.ms", ms(std::max(o.reconnect_backoff, milliseconds(10000)))},
      {"socket.connection.setup.timeout.ms", ms(std::max(c.connect_timeout, milliseconds(1000)))},
      {"request.timeout.ms", ms(c.request_timeout.count() > 0 ? std::min(c.request_timeout, milliseconds(900000))
                                                              : milliseconds(900000))},
      {"client.id", c.client_id},
      // buffer_bytes is enforced by send(); librdkafka's own limits stay out of the way.
      {"queue.buffering.max.messages", "10000000"},
      {"queue.buffering.max.kbytes", "2147483647"},
  };
  if (o.batch_records > 0) pairs.push_back({"batch.num.messages", std::to_string(o.batch_records)});
  // The same codecs on Kafka (librdkafka's compression.codec; level 0 is its default).
  pairs.push_back({"compression.codec", codec_name(o.compression.codec)});
  if (o.compression.codec != Codec::kNone && o.compression.level != 0)
    pairs.push_back({"compression.level", std::to_string(o.compression.level)});
  pairs.insert(pairs.end(), c.kafka_config.begin(), c.kafka_config.end());
  auto conf = make_conf(bootstrap, pairs);
  if (!conf) return conf.error();
  // Delivery reports and errors as events, served by the Producer's thread.
  rd_kafka_conf_set_events(*conf, RD_KAFKA_EVENT_DR | RD_KAFKA_EVENT_ERROR);
  auto rk = make_handle(RD_KAFKA_PRODUCER, *conf);
  if (!rk) return rk.error();
  // Connect now, as the RustLog Producer does: an unreachable cluster fails here.
  const rd_kafka_metadata_t* md = nullptr;
  const int wait = static_cast<int>(std::max(c.connect_timeout, milliseconds(1000)).count());
  if (rd_kafka_resp_err_t err = rd_kafka_metadata(rk->get(), 0, nullptr, &md, wait); err)
    return kafka_error(err, "cannot reach the Kafka cluster at " + address + " within " + std::to_string(wait) +
                                " ms (is Kafka running there?)");
  rd_kafka_metadata_destroy(md);
  return std::unique_ptr<ProducerBackend>(new KafkaProducer(address, o, std::move(*rk)));
}

KafkaProducer::KafkaProducer(std::string address, ProducerOptions options, Handle rk)
    : address_(std::move(address)), options_(std::move(options)), rk_(std::move(rk)) {
  events_ = rd_kafka_queue_get_main(rk_.get());
  events_thread_ = std::thread([this] { run(); });
  events_id_ = events_thread_.get_id();
}

KafkaProducer::~KafkaProducer() {
  close(milliseconds(0));
  if (events_thread_.joinable()) {  // closed from a callback: the thread is still there
    stop_ = true;
    events_thread_.join();
  }
  rd_kafka_queue_destroy(events_);
}

void KafkaProducer::run() {
  while (!stop_.load()) {
    rd_kafka_event_t* ev = rd_kafka_queue_poll(events_, 100);
    if (!ev) continue;
    if (rd_kafka_event_type(ev) == RD_KAFKA_EVENT_DR) {
      while (const rd_kafka_message_t* m = rd_kafka_event_message_next(ev)) delivered(m);
    }
    // Error events: transient ones are retried by librdkafka; a fatal one
    // fails every record left, and their reports say why.
    rd_kafka_event_destroy(ev);
  }
}

void KafkaProducer::delivered(const rd_kafka_message_t* m) {
  std::unique_ptr<Ticket> t(static_cast<Ticket*>(m->_private));
  const uint32_t part = t->outcome->partition();
  if (m->err) {
    records_failed_.fetch_add(1, std::memory_order_relaxed);
    if (m->err == RD_KAFKA_RESP_ERR__PURGE_QUEUE || m->err == RD_KAFKA_RESP_ERR__PURGE_INFLIGHT) {
      t->outcome->fail(ClientError(ErrorSource::kClient, ErrorCode::kTimedOut,
                                   "producer closed before the record was answered"));
    } else if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
      char why[512];
      const rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk_.get(), why, sizeof why);
      t->outcome->fail(kafka_error(orig, "the Kafka producer failed for good (" + t->topic + "/" +
                                             std::to_string(part) + ")", why));
    } else {
      if (m->err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || m->err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC) {
        std::lock_guard lock(mu_);
        partitions_.erase(t->topic);  // looked up again by the next send
        sticky_.erase(t->topic);
      }
      t->outcome->fail(kafka_error(m->err, "Kafka did not take the record for " + t->topic + "/" +
                                               std::to_string(part)));
    }
  } else {
    records_acked_.fetch_add(1, std::memory_order_relaxed);
    // The record's time as sent (librdkafka's report may carry a
    // LogAppendTime that the stored record does not have: the mock cluster's).
    t->outcome->succeed(static_cast<uint64_t>(m->offset), t->timestamp_us);
  }
  if (t->callback) t->callback(t->outcome->result(0, -1));
  std::lock_guard lock(mu_);
  unresolved_.erase(t->seq);
  buffered_ -= t->bytes;
  space_cv_.notify_all();
  done_cv_.notify_all();
}

SendFuture KafkaProducer::refuse(const std::string& topic, uint32_t partition, ClientError error,
                                 const SendCallback& callback) {
  records_failed_.fetch_add(1, std::memory_order_relaxed);
  SendFuture f = failed_send(topic, partition, std::move(error));
  if (callback) callback(f.get());
  return f;
}

ClientResult<uint32_t> KafkaProducer::lookup_partitions(const std::string& topic) {
  std::lock_guard lock(meta_mu_);
  const milliseconds wait = options_.client.request_timeout.count() > 0 ? options_.client.request_timeout
                                                                       : milliseconds(30000);
  auto n = kafka_partition_count(rk_.get(), topic, static_cast<int>(wait.count()));
  if (!n) return n.error();
  if (*n <= 0)
    return ClientError(ErrorSource::kBroker, ErrorCode::kTopicNotFound,
                       "topic '" + topic + "' does not exist on the Kafka cluster at " + address_);
  return static_cast<uint32_t>(*n);
}

ClientResult<uint32_t> KafkaProducer::partition_count(const std::string& topic) {
  {
    std::lock_guard lock(mu_);
    if (auto it = partitions_.find(topic); it != partitions_.end()) return it->second;
  }
  auto n = lookup_partitions(topic);
  if (!n) return n.error();
  std::lock_guard lock(mu_);
  return partitions_.emplace(topic, *n).first->second;
}

uint32_t KafkaProducer::choose_partition(const std::string& topic, const ProducerRecord& record, uint32_t count,
                                         size_t bytes) {
  if (record.key) return partition_for_key(*record.key, count);
  if (options_.unkeyed == UnkeyedPartitioning::kFirstPartition) return 0;
  // Sticky: one partition for a batch's worth of records, then the next.
  Sticky& s = sticky_[topic];
  if (s.bytes >= options_.batch_bytes ||
      (options_.batch_records > 0 && s.bytes >= options_.batch_records * std::max<size_t>(bytes, 1))) {
    s.partition = (s.partition + 1) % count;
    s.bytes = 0;
  }
  s.partition %= count;
  s.bytes += std::max<size_t>(bytes, 1);
  return s.partition;
}

SendFuture KafkaProducer::send(const std::string& topic, int64_t partition, ProducerRecord record,
                               SendCallback callback) {
  const uint32_t shown = partition >= 0 ? static_cast<uint32_t>(partition) : 0;
  const size_t bytes = record_bytes(record);
  if (bytes > options_.buffer_bytes)
    return refuse(topic, shown,
                  ClientError(ErrorSource::kClient, ErrorCode::kTooLarge,
                              "record of " + std::to_string(bytes) + " bytes exceeds buffer_bytes (" +
                                  std::to_string(options_.buffer_bytes) + ")"),
                  callback);
  auto count = partition_count(topic);
  if (!count) return refuse(topic, shown, count.error(), callback);
  if (partition >= 0 && static_cast<uint64_t>(partition) >= *count)
    return refuse(topic, shown,
                  ClientError(ErrorSource::kClient, ErrorCode::kPartitionNotFound,
                              "partition " + std::to_string(partition) + " does not exist: Kafka topic " + topic +
                                  " has " + std::to_string(*count) + " partition" + (*count == 1 ? "" : "s")),
                  callback);

  std::unique_lock lock(mu_);
  if (closed_) return lock.unlock(), refuse(topic, shown, ClientError::invalid_argument("producer is closed"), callback);
  if (buffered_ + bytes > options_.buffer_bytes) {
    // The event thread frees space: it must never wait for it (a callback may send).
    const bool may_block = options_.block_when_full && std::this_thread::get_id() != events_id_;
    const auto deadline = Clock::now() + options_.max_block;
    while (may_block && !closed_ && buffered_ + bytes > options_.buffer_bytes)
      if (space_cv_.wait_until(lock, deadline) == std::cv_status::timeout) break;
    if (closed_) return lock.unlock(), refuse(topic, shown, ClientError::invalid_argument("producer is closed"), callback);
    if (buffered_ + bytes > options_.buffer_bytes) {
      const size_t held = buffered_;
      lock.unlock();
      return refuse(topic, shown,
                    ClientError(ErrorSource::kClient, ErrorCode::kBufferFull,
                                "producer buffer full: " + std::to_string(held) + " of " +
                                    std::to_string(options_.buffer_bytes) + " bytes held" +
                                    (may_block ? " for max_block (" + std::to_string(options_.max_block.count()) +
                                                     " ms)"
                                               : "") +
                                    "; Kafka is slower than the senders, or unreachable"),
                    callback);
    }
  }
  const uint32_t p = partition >= 0 ? static_cast<uint32_t>(partition) : choose_partition(topic, record, *count, bytes);
  const uint64_t seq = next_seq_++;
  unresolved_.insert(seq);
  buffered_ += bytes;
  lock.unlock();

  auto outcome = std::make_shared<detail::BatchOutcome>(topic, p);
  // A record without a timestamp gets the producer's clock now (Kafka's
  // CreateTime), in ms as Kafka keeps it.
  const int64_t ts = record.timestamp_us >= 0
                         ? record.timestamp_us
                         : std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::system_clock::now().time_since_epoch())
                                   .count() *
                               1000;
  auto* t = new Ticket{outcome, std::move(callback), ts, seq, bytes, topic};
  const rd_kafka_resp_err_t err = produce(rk_.get(), topic, static_cast<int32_t>(p), record.key, record.value,
                                          record.headers, ts, t);
  if (err) {
    SendCallback cb = std::move(t->callback);
    delete t;
    {
      std::lock_guard relock(mu_);
      unresolved_.erase(seq);
      buffered_ -= bytes;
      done_cv_.notify_all();
      space_cv_.notify_all();
    }
    return refuse(topic, p, kafka_error(err, "cannot hand the record for " + topic + "/" + std::to_string(p) +
                                                 " to librdkafka"),
                  cb);
  }
  records_sent_.fetch_add(1, std::memory_order_relaxed);
  return SendFuture(std::move(outcome), 0, -1);
}

ClientStatus KafkaProducer::flush(milliseconds timeout) {
  if (std::this_thread::get_id() == events_id_)
    return ClientError::invalid_argument("flush() cannot be called from a send callback");
  uint64_t target;
  {
    std::lock_guard lock(mu_);
    target = next_seq_;
  }
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    {
      std::lock_guard lock(mu_);
      if (unresolved_.empty() || *unresolved_.begin() >= target) return {};
    }
    milliseconds slice(200);
    if (timeout.count() > 0) {
      const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
      if (left.count() <= 0)
        return ClientError(ErrorSource::kClient, ErrorCode::kTimedOut,
                           "flush: records still unanswered after " + std::to_string(timeout.count()) + " ms");
      slice = std::min(slice, left);
    }
    // While it runs, librdkafka sends without lingering; it returns once
    // every report was served (by the event thread) or the slice is over.
    (void)rd_kafka_flush(rk_.get(), static_cast<int>(std::max<int64_t>(slice.count(), 1)));
  }
}

void KafkaProducer::close(milliseconds timeout) {
  {
    std::lock_guard lock(mu_);
    closed_ = true;
    space_cv_.notify_all();
  }
  if (std::this_thread::get_id() == events_id_) return;  // from a callback: the destructor ends the thread
  if (!events_thread_.joinable() || stop_.load()) return;
  if (!flush(timeout)) {
    // Whatever is left fails now (its reports come through the event thread).
    rd_kafka_purge(rk_.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    std::unique_lock lock(mu_);
    done_cv_.wait(lock, [&] { return unresolved_.empty(); });
  }
  stop_ = true;
  events_thread_.join();
}

ProducerStats KafkaProducer::stats() const {
  ProducerStats s;
  s.records_sent = records_sent_.load();
  s.records_acked = records_acked_.load();
  s.records_failed = records_failed_.load();
  std::lock_guard lock(mu_);
  s.buffered_bytes = buffered_;
  return s;
}

}  // namespace rustlog::client::kafka
