#include "client/kafka/kafka_consumer.h"

#include <algorithm>
#include <cstring>

namespace rustlog::client::kafka {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

struct ListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const { rd_kafka_topic_partition_list_destroy(l); }
};
using List = std::unique_ptr<rd_kafka_topic_partition_list_t, ListDeleter>;

List make_list(const std::string& topic, const std::vector<std::pair<uint32_t, int64_t>>& offsets) {
  List l(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& [p, o] : offsets) rd_kafka_topic_partition_list_add(l.get(), topic.c_str(), static_cast<int32_t>(p))->offset = o;
  return l;
}

ClientError not_assigned() {
  return ClientError::invalid_argument("the consumer reads no topic yet: call subscribe() or assign() first");
}

ClientError from_error_object(rd_kafka_error_t* e, const std::string& context) {
  ClientError out = kafka_error(rd_kafka_error_code(e), context, rd_kafka_error_string(e));
  rd_kafka_error_destroy(e);
  return out;
}

}  // namespace

ClientResult<std::unique_ptr<ConsumerBackend>> KafkaConsumer::open(const std::string& address,
                                                                   const std::string& bootstrap,
                                                                   const ConsumerOptions& o,
                                                                   const ClientOptions& c) {
  const char* reset = o.auto_offset_reset == OffsetReset::kEarliest ? "earliest"
                      : o.auto_offset_reset == OffsetReset::kLatest ? "latest"
                                                                    : "error";
  ConfigPairs pairs = {
      {"enable.auto.commit", "false"},
      {"enable.auto.offset.store", "false"},
      {"enable.partition.eof", "false"},
      {"auto.offset.reset", reset},
      {"fetch.wait.max.ms", std::to_string(std::clamp<int64_t>(o.max_wait.count(), 0, 300000))},
      {"fetch.min.bytes", std::to_string(std::max<uint32_t>(o.min_bytes, 1))},
      {"max.partition.fetch.bytes", std::to_string(std::max<uint32_t>(o.max_bytes, 1))},
      {"socket.connection.setup.timeout.ms", std::to_string(std::max<int64_t>(c.connect_timeout.count(), 1000))},
      {"client.id", c.client_id},
  };
  // librdkafka's consumer wants a group even for assign(); without one this
  // consumer never commits (commit() refuses) and never joins (assign only),
  // so the name is never used on the cluster.
  pairs.push_back({"group.id", o.group_id.empty() ? "rustlog-client-no-group" : o.group_id});
  pairs.insert(pairs.end(), c.kafka_config.begin(), c.kafka_config.end());
  auto conf = make_conf(bootstrap, pairs);
  if (!conf) return conf.error();
  const int timeout_ms = static_cast<int>(c.request_timeout.count() > 0 ? c.request_timeout.count() : 30000);
  std::unique_ptr<KafkaConsumer> kc(new KafkaConsumer(address, o, timeout_ms));
  rd_kafka_conf_set_opaque(*conf, kc.get());  // the rebalance callback's way back
  rd_kafka_conf_set_rebalance_cb(*conf, &KafkaConsumer::on_rebalance);
  auto rk = make_handle(RD_KAFKA_CONSUMER, *conf);
  if (!rk) return rk.error();
  kc->rk_ = std::move(*rk);
  rd_kafka_poll_set_consumer(kc->rk_.get());
  const int connect_ms = static_cast<int>(std::max<int64_t>(c.connect_timeout.count(), 1000));
  const rd_kafka_metadata_t* md = nullptr;
  if (rd_kafka_resp_err_t err = rd_kafka_metadata(kc->rk_.get(), 0, nullptr, &md, connect_ms); err)
    return kafka_error(err, "cannot reach the Kafka cluster at " + address + " within " +
                                std::to_string(connect_ms) + " ms (is Kafka running there?)");
  rd_kafka_metadata_destroy(md);
  return std::unique_ptr<ConsumerBackend>(std::move(kc));
}

KafkaConsumer::KafkaConsumer(std::string address, ConsumerOptions options, int timeout_ms)
    : address_(std::move(address)), options_(std::move(options)), timeout_ms_(timeout_ms) {}

KafkaConsumer::~KafkaConsumer() {
  if (rk_ && !closed_) (void)rd_kafka_consumer_close(rk_.get());
}

ClientStatus KafkaConsumer::usable() const {
  if (closed_) return ClientError::invalid_argument("the consumer is closed");
  if (mode_ == Mode::kNone) return not_assigned();
  return {};
}

ClientStatus KafkaConsumer::subscribe(const std::string& topic) {
  if (closed_) return ClientError::invalid_argument("the consumer is closed");
  auto n = kafka_partition_count(rk_.get(), topic, timeout_ms_);
  if (!n) return n.error();
  if (*n <= 0)
    return ClientError(ErrorSource::kBroker, ErrorCode::kTopicNotFound,
                       "topic '" + topic + "' does not exist on the Kafka cluster at " + address_);
  if (options_.group_id.empty()) {
    // No group: every partition, as on RustLog.
    std::vector<uint32_t> all(static_cast<size_t>(*n));
    for (uint32_t i = 0; i < all.size(); ++i) all[i] = i;
    return assign(topic, std::move(all));
  }
  if (fetching_) (void)rd_kafka_assign(rk_.get(), nullptr);
  List l = make_list(topic, {{0, RD_KAFKA_OFFSET_INVALID}});
  // subscribe() takes topics: the partition field is ignored.
  l->elems[0].partition = RD_KAFKA_PARTITION_UA;
  if (rd_kafka_resp_err_t err = rd_kafka_subscribe(rk_.get(), l.get()); err)
    return kafka_error(err, "subscribing to Kafka topic " + topic);
  mode_ = Mode::kSubscribed;
  topic_ = topic;
  parts_.clear();
  fetching_ = false;
  since_commit_ = 0;
  return {};
}

ClientStatus KafkaConsumer::assign(const std::string& topic, std::vector<uint32_t> partitions) {
  if (closed_) return ClientError::invalid_argument("the consumer is closed");
  if (topic.empty()) return ClientError::invalid_argument("assign: empty topic name");
  if (partitions.empty()) return ClientError::invalid_argument("assign: no partitions");
  if (mode_ == Mode::kSubscribed) (void)rd_kafka_unsubscribe(rk_.get());
  if (fetching_) (void)rd_kafka_assign(rk_.get(), nullptr);
  mode_ = Mode::kAssigned;
  topic_ = topic;
  parts_.clear();
  for (uint32_t p : partitions) parts_[p];
  fetching_ = false;
  since_commit_ = 0;
  return {};
}

void KafkaConsumer::on_rebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* list,
                                 void*) {
  static_cast<KafkaConsumer*>(rd_kafka_opaque(rk))->rebalanced(err, list);
}

void KafkaConsumer::rebalanced(rd_kafka_resp_err_t err, rd_kafka_topic_partition_list_t* list) {
  const bool cooperative = std::strcmp(rd_kafka_rebalance_protocol(rk_.get()), "COOPERATIVE") == 0;
  if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
    std::vector<uint32_t> got;
    for (int i = 0; i < list->cnt; ++i) {
      const auto p = static_cast<uint32_t>(list->elems[i].partition);
      parts_[p] = Part{};
      got.push_back(p);
    }
    if (ClientStatus st = resolve(got); !st && !pending_) pending_ = st.error();
    for (int i = 0; i < list->cnt; ++i) {
      const Part& part = parts_[static_cast<uint32_t>(list->elems[i].partition)];
      list->elems[i].offset = part.position ? static_cast<int64_t>(*part.position) : RD_KAFKA_OFFSET_INVALID;
    }
    if (cooperative) {
      if (rd_kafka_error_t* e = rd_kafka_incremental_assign(rk_.get(), list); e && !pending_)
        pending_ = from_error_object(e, "taking the partitions Kafka assigned");
    } else if (rd_kafka_resp_err_t e = rd_kafka_assign(rk_.get(), list); e && !pending_) {
      pending_ = kafka_error(e, "taking the partitions Kafka assigned");
    }
    return;
  }
  // Revoked (or lost): what was returned is committed first when the
  // consumer auto-commits, so the next owner does not read it again.
  if (options_.auto_commit_every > 0 && err == RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
    if (ClientStatus st = commit(); !st && !pending_) pending_ = st.error();
  for (int i = 0; i < list->cnt; ++i) parts_.erase(static_cast<uint32_t>(list->elems[i].partition));
  if (cooperative) {
    if (rd_kafka_error_t* e = rd_kafka_incremental_unassign(rk_.get(), list)) rd_kafka_error_destroy(e);
  } else {
    (void)rd_kafka_assign(rk_.get(), nullptr);
    parts_.clear();
  }
}

ClientResult<uint64_t> KafkaConsumer::watermark(uint32_t partition, bool high) {
  int64_t lo = 0, hi = 0;
  if (rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(rk_.get(), topic_.c_str(),
                                                                  static_cast<int32_t>(partition), &lo, &hi,
                                                                  timeout_ms_);
      err)
    return kafka_error(err, "asking Kafka for the offsets of " + where(partition));
  return static_cast<uint64_t>(high ? hi : lo);
}

ClientStatus KafkaConsumer::resolve(const std::vector<uint32_t>& partitions) {
  std::vector<std::pair<uint32_t, int64_t>> open;
  for (uint32_t p : partitions)
    if (!parts_[p].position) open.push_back({p, RD_KAFKA_OFFSET_INVALID});
  if (open.empty()) return {};
  if (!options_.group_id.empty()) {
    List l = make_list(topic_, open);
    if (rd_kafka_resp_err_t err = rd_kafka_committed(rk_.get(), l.get(), timeout_ms_); err)
      return kafka_error(err, "reading group '" + options_.group_id + "' offsets of " + topic_ + " from Kafka");
    for (int i = 0; i < l->cnt; ++i) {
      const auto& e = l->elems[i];
      if (e.err) return kafka_error(e.err, "reading group '" + options_.group_id + "' offset of " + where(e.partition));
      if (e.offset >= 0) {
        Part& part = parts_[static_cast<uint32_t>(e.partition)];
        part.committed = part.position = static_cast<uint64_t>(e.offset);
      }
    }
  }
  for (const auto& [p, unused] : open) {
    Part& part = parts_[p];
    if (part.position) continue;
    if (options_.auto_offset_reset == OffsetReset::kNone)
      return ClientError(ErrorSource::kClient, ErrorCode::kOffsetOutOfRange,
                         "no valid position on " + where(p) +
                             (options_.group_id.empty() ? std::string() : " for group '" + options_.group_id + "'") +
                             " and auto_offset_reset is none");
    auto o = watermark(p, options_.auto_offset_reset == OffsetReset::kLatest);
    if (!o) return o.error();
    part.position = *o;
  }
  return {};
}

ClientStatus KafkaConsumer::start_fetching() {
  if (mode_ != Mode::kAssigned || fetching_) return {};
  std::vector<std::pair<uint32_t, int64_t>> at;
  for (const auto& [p, part] : parts_) at.push_back({p, static_cast<int64_t>(*part.position)});
  List l = make_list(topic_, at);
  if (rd_kafka_resp_err_t err = rd_kafka_assign(rk_.get(), l.get()); err)
    return kafka_error(err, "assigning " + topic_ + " partitions");
  fetching_ = true;
  return {};
}

ClientStatus KafkaConsumer::resolve_positions() {
  if (ClientStatus st = usable(); !st) return st;
  std::vector<uint32_t> all;
  for (const auto& [p, part] : parts_) all.push_back(p);
  if (ClientStatus st = resolve(all); !st) return st;
  return start_fetching();
}

ClientStatus KafkaConsumer::seek(uint32_t partition, uint64_t offset) {
  if (ClientStatus st = usable(); !st) return st;
  auto it = parts_.find(partition);
  if (it == parts_.end())
    return ClientError::invalid_argument("seek: partition " + std::to_string(partition) + " of " + topic_ +
                                         " is not assigned to this consumer" +
                                         (mode_ == Mode::kSubscribed ? " (yet: Kafka assigns them during poll())" : ""));
  it->second.position = offset;
  if (mode_ == Mode::kAssigned && !fetching_) return {};  // the first poll starts there
  // (Not a new rd_kafka_assign: librdkafka 2.0 may abort when partitions are
  // assigned again while it still stops them.)
  List l = make_list(topic_, {{partition, static_cast<int64_t>(offset)}});
  if (rd_kafka_error_t* e = rd_kafka_seek_partitions(rk_.get(), l.get(), timeout_ms_))
    return from_error_object(e, "seeking " + where(partition));
  if (l->elems[0].err) return kafka_error(l->elems[0].err, "seeking " + where(partition));
  return {};
}

ClientStatus KafkaConsumer::seek_to_watermark(bool high) {
  if (ClientStatus st = usable(); !st) return st;
  std::vector<uint32_t> assigned;
  for (const auto& [p, part] : parts_) assigned.push_back(p);
  for (uint32_t p : assigned) {
    auto o = watermark(p, high);
    if (!o) return o.error();
    if (ClientStatus st = seek(p, *o); !st) return st;
  }
  return {};
}

ClientStatus KafkaConsumer::seek_to_beginning() { return seek_to_watermark(false); }
ClientStatus KafkaConsumer::seek_to_end() { return seek_to_watermark(true); }

ClientStatus KafkaConsumer::seek_to_time(int64_t timestamp_us) {
  if (ClientStatus st = usable(); !st) return st;
  if (parts_.empty()) return {};
  // Kafka keeps ms: the first record at or after timestamp_us is the first
  // at or after the next whole ms.
  const int64_t ts_ms = timestamp_us <= 0 ? 0 : (timestamp_us + 999) / 1000;
  std::vector<std::pair<uint32_t, int64_t>> q;
  for (const auto& [p, part] : parts_) q.push_back({p, ts_ms});
  List l = make_list(topic_, q);
  if (rd_kafka_resp_err_t err = rd_kafka_offsets_for_times(rk_.get(), l.get(), timeout_ms_); err)
    return kafka_error(err, "asking Kafka for the offsets of " + topic_ + " at a time");
  for (int i = 0; i < l->cnt; ++i) {
    const auto& e = l->elems[i];
    if (e.err) return kafka_error(e.err, "asking Kafka for an offset of " + where(e.partition) + " at a time");
    const auto p = static_cast<uint32_t>(e.partition);
    uint64_t at;
    if (e.offset >= 0) {
      at = static_cast<uint64_t>(e.offset);
    } else {  // no such record: the end
      auto hi = watermark(p, true);
      if (!hi) return hi.error();
      at = *hi;
    }
    if (ClientStatus st = seek(p, at); !st) return st;
  }
  return {};
}

ClientError KafkaConsumer::read_error(const rd_kafka_message_t* m) const {
  const std::string what = m->rkt ? std::string(rd_kafka_topic_name(m->rkt)) + "/" + std::to_string(m->partition)
                                  : topic_;
  if (m->err == RD_KAFKA_RESP_ERR__AUTO_OFFSET_RESET)
    return ClientError(ErrorSource::kClient, ErrorCode::kOffsetOutOfRange,
                       "the position on " + what + " is out of range and auto_offset_reset is none: " +
                           rd_kafka_message_errstr(m));
  return kafka_error(m->err, "reading " + what + " from Kafka", rd_kafka_message_errstr(m));
}

ClientResult<std::vector<ConsumerRecord>> KafkaConsumer::poll(milliseconds timeout, size_t max_records) {
  if (ClientStatus st = usable(); !st) return st.error();
  if (pending_) {
    ClientError e = std::move(*pending_);
    pending_.reset();
    return e;
  }
  if (max_records == 0) max_records = options_.max_poll_records == 0 ? SIZE_MAX : options_.max_poll_records;
  if (options_.auto_commit_every > 0 && !options_.group_id.empty() && since_commit_ >= options_.auto_commit_every)
    if (ClientStatus st = commit(); !st) return st.error();
  if (ClientStatus st = resolve_positions(); !st) return st.error();
  const auto deadline = Clock::now() + std::max(timeout, milliseconds(0));
  std::vector<ConsumerRecord> out;
  for (;;) {
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    // Wait for the first record; then take what is already there.
    const int wait = out.empty() ? static_cast<int>(std::max<int64_t>(left.count(), 0)) : 0;
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk_.get(), wait);
    if (pending_) {  // from the rebalance callback, inside the poll
      if (m) rd_kafka_message_destroy(m);
      if (!out.empty()) return out;
      ClientError e = std::move(*pending_);
      pending_.reset();
      return e;
    }
    if (!m) {
      if (!out.empty() || left.count() <= 0) return out;
      continue;
    }
    if (m->err) {
      // A broker going away is retried by librdkafka; other errors are the caller's.
      const bool transient = m->err == RD_KAFKA_RESP_ERR__TRANSPORT || m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF;
      ClientError e = read_error(m);
      rd_kafka_message_destroy(m);
      if (transient) continue;
      if (out.empty()) return e;
      pending_ = std::move(e);
      return out;
    }
    auto it = parts_.find(static_cast<uint32_t>(m->partition));
    if (it == parts_.end() || topic_ != rd_kafka_topic_name(m->rkt)) {  // no longer ours
      rd_kafka_message_destroy(m);
      continue;
    }
    ConsumerRecord cr;
    static_cast<Record&>(cr) = to_record(m);
    cr.topic = topic_;
    cr.partition = it->first;
    rd_kafka_message_destroy(m);
    it->second.position = cr.offset + 1;
    ++since_commit_;
    out.push_back(std::move(cr));
    if (out.size() >= max_records) return out;
  }
}

ClientStatus KafkaConsumer::commit() {
  if (options_.group_id.empty()) return ClientError::invalid_argument("commit: the consumer has no group_id");
  if (ClientStatus st = usable(); !st) return st;
  std::vector<std::pair<uint32_t, int64_t>> todo;
  for (const auto& [p, part] : parts_)
    if (part.position && part.position != part.committed) todo.push_back({p, static_cast<int64_t>(*part.position)});
  if (!todo.empty()) {
    List l = make_list(topic_, todo);
    if (rd_kafka_resp_err_t err = rd_kafka_commit(rk_.get(), l.get(), 0); err)
      return kafka_error(err, "committing group '" + options_.group_id + "' offsets of " + topic_ + " to Kafka");
    for (int i = 0; i < l->cnt; ++i) {
      const auto& e = l->elems[i];
      if (e.err) return kafka_error(e.err, "committing group '" + options_.group_id + "' offset of " + where(e.partition));
      if (auto it = parts_.find(static_cast<uint32_t>(e.partition)); it != parts_.end())
        it->second.committed = static_cast<uint64_t>(e.offset);
    }
  }
  since_commit_ = 0;
  return {};
}

ClientStatus KafkaConsumer::close() {
  if (closed_) return {};
  ClientStatus st;
  if (options_.auto_commit_every > 0 && !options_.group_id.empty() && since_commit_ > 0 && mode_ != Mode::kNone)
    st = commit();
  // Leaves the group at once, so its partitions move to the other members.
  (void)rd_kafka_consumer_close(rk_.get());
  closed_ = true;
  return st;
}

std::vector<PartitionPosition> KafkaConsumer::positions() const {
  std::vector<PartitionPosition> out;
  for (const auto& [p, part] : parts_) {
    PartitionPosition pp{topic_, p, part.position, part.committed, std::nullopt};
    int64_t lo = -1, hi = -1;
    if (rd_kafka_get_watermark_offsets(rk_.get(), topic_.c_str(), static_cast<int32_t>(p), &lo, &hi) ==
            RD_KAFKA_RESP_ERR_NO_ERROR &&
        hi >= 0)
      pp.high_watermark = static_cast<uint64_t>(hi);
    out.push_back(std::move(pp));
  }
  return out;
}

std::optional<uint64_t> KafkaConsumer::position(uint32_t partition) const {
  auto it = parts_.find(partition);
  return it == parts_.end() ? std::nullopt : it->second.position;
}

}  // namespace rustlog::client::kafka
