#include "client/consumer.h"

#include <algorithm>

#include "client/backend.h"

namespace rustlog::client {

namespace {
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

ClientError not_assigned() {
  return ClientError::invalid_argument("the consumer reads no topic yet: call subscribe() or assign() first");
}
}  // namespace

ClientResult<OffsetReset> parse_offset_reset(std::string_view text) {
  if (text == "earliest") return OffsetReset::kEarliest;
  if (text == "latest") return OffsetReset::kLatest;
  if (text == "none") return OffsetReset::kNone;
  return ClientError::invalid_argument("auto_offset_reset must be earliest, latest or none, not '" +
                                       std::string(text) + "'");
}

const char* offset_reset_name(OffsetReset reset) {
  switch (reset) {
    case OffsetReset::kEarliest: return "earliest";
    case OffsetReset::kLatest: return "latest";
    case OffsetReset::kNone: return "none";
  }
  return "unknown";
}

Consumer::Consumer(Client client, ConsumerOptions options)
    : client_(std::move(client)), options_(std::move(options)) {}
Consumer::Consumer(std::unique_ptr<ConsumerBackend> backend, ConsumerOptions options)
    : backend_(std::move(backend)), options_(std::move(options)) {}
Consumer::Consumer(Consumer&&) noexcept = default;
Consumer& Consumer::operator=(Consumer&&) noexcept = default;
Consumer::~Consumer() = default;

ClientResult<Consumer> Consumer::connect(std::string_view broker, ConsumerOptions options,
                                         const ClientOptions& client_options) {
  if (is_kafka_address(broker)) {
    auto k = open_kafka_consumer(broker, options, client_options);
    if (!k) return k.error();
    return Consumer(std::move(*k), std::move(options));
  }
  auto c = Client::connect(broker, client_options);
  if (!c) return c.error();
  return Consumer(std::move(*c), std::move(options));
}

ClientStatus Consumer::subscribe(const std::string& topic) {
  if (backend_) return backend_->subscribe(topic);
  auto n = client_->partition_count(topic);
  if (!n) return n.error();
  std::vector<uint32_t> all(*n);
  for (uint32_t i = 0; i < *n; ++i) all[i] = i;
  return assign(topic, std::move(all));
}

ClientStatus Consumer::assign(const std::string& topic, std::vector<uint32_t> partitions) {
  if (backend_) return backend_->assign(topic, std::move(partitions));
  if (topic.empty()) return ClientError::invalid_argument("assign: empty topic name");
  if (partitions.empty()) return ClientError::invalid_argument("assign: no partitions");
  std::sort(partitions.begin(), partitions.end());
  partitions.erase(std::unique(partitions.begin(), partitions.end()), partitions.end());
  topic_ = topic;
  parts_.clear();
  for (uint32_t p : partitions) {
    Part part;
    part.partition = p;
    parts_.push_back(std::move(part));
  }
  next_part_ = 0;
  since_commit_ = 0;
  return {};
}

Consumer::Part* Consumer::find(uint32_t partition) {
  for (auto& p : parts_)
    if (p.partition == partition) return &p;
  return nullptr;
}

ClientStatus Consumer::seek(uint32_t partition, uint64_t offset) {
  if (backend_) return backend_->seek(partition, offset);
  if (parts_.empty()) return not_assigned();
  Part* p = find(partition);
  if (!p)
    return ClientError::invalid_argument("seek: partition " + std::to_string(partition) + " of " + topic_ +
                                         " is not assigned to this consumer");
  p->position = offset;
  p->fetch_next = offset;
  p->buffer.clear();
  return {};
}

ClientStatus Consumer::seek_to_beginning() {
  if (backend_) return backend_->seek_to_beginning();
  if (parts_.empty()) return not_assigned();
  for (auto& p : parts_) {
    auto o = client_->earliest_offset(topic_, p.partition);
    if (!o) return o.error();
    if (ClientStatus st = seek(p.partition, *o); !st) return st;
  }
  return {};
}

ClientStatus Consumer::seek_to_end() {
  if (backend_) return backend_->seek_to_end();
  if (parts_.empty()) return not_assigned();
  for (auto& p : parts_) {
    auto o = client_->latest_offset(topic_, p.partition);
    if (!o) return o.error();
    if (ClientStatus st = seek(p.partition, *o); !st) return st;
  }
  return {};
}

ClientStatus Consumer::seek_to_time(int64_t timestamp_us) {
  if (backend_) return backend_->seek_to_time(timestamp_us);
  if (parts_.empty()) return not_assigned();
  for (auto& p : parts_) {
    auto o = client_->offset_for_time(topic_, p.partition, timestamp_us);
    if (!o) return o.error();
    if (ClientStatus st = seek(p.partition, o->offset); !st) return st;
  }
  return {};
}

ClientStatus Consumer::reset(Part& p) {
  const std::string where = topic_ + "/" + std::to_string(p.partition);
  ClientResult<uint64_t> o = uint64_t{0};
  switch (options_.auto_offset_reset) {
    case OffsetReset::kEarliest: o = client_->earliest_offset(topic_, p.partition); break;
    case OffsetReset::kLatest: o = client_->latest_offset(topic_, p.partition); break;
    case OffsetReset::kNone:
      return ClientError(ErrorSource::kClient, ErrorCode::kOffsetOutOfRange,
                         "no valid position on " + where +
                             (options_.group_id.empty() ? std::string()
                                                        : " for group '" + options_.group_id + "'") +
                             " and auto_offset_reset is none");
  }
  if (!o) return o.error();
  p.position = *o;
  p.fetch_next = *o;
  p.buffer.clear();
  return {};
}

ClientStatus Consumer::resolve(Part& p) {
  if (p.position) return {};
  if (!options_.group_id.empty()) {
    auto c = client_->committed_offset(options_.group_id, topic_, p.partition);
    if (!c) return c.error();
    if (c->has_value()) {
      p.committed = **c;
      p.position = **c;
      p.fetch_next = **c;
      return {};
    }
  }
  return reset(p);
}

ClientStatus Consumer::resolve_positions() {
  if (backend_) return backend_->resolve_positions();
  if (parts_.empty()) return not_assigned();
  for (auto& p : parts_)
    if (ClientStatus st = resolve(p); !st) return st;
  return {};
}

ClientStatus Consumer::fetch_into(Part& p, milliseconds wait) {
  if (p.buffer.empty()) p.fetch_next = *p.position;
  FetchOptions fo;
  fo.max_bytes = options_.max_bytes;
  fo.max_wait = wait;
  fo.min_bytes = options_.min_bytes;
  const uint64_t from = p.fetch_next;
  auto r = client_->fetch(topic_, p.partition, from, fo);
  if (!r) {
    if (r.error().from_broker() && r.error().code() == ErrorCode::kOffsetOutOfRange) {
      if (options_.auto_offset_reset == OffsetReset::kNone) return r.error();
      p.buffer.clear();
      return reset(p);
    }
    return r.error();
  }
  p.high_watermark = r->high_watermark;
  for (auto& rec : r->records)
    if (rec.offset >= from) p.buffer.push_back(std::move(rec));
  p.fetch_next = std::max(from, r->next_offset);
  if (p.buffer.empty()) p.position = p.fetch_next;
  return {};
}

void Consumer::drain(std::vector<ConsumerRecord>& out, size_t max_records) {
  const size_t n = parts_.size();
  for (size_t i = 0; i < n && out.size() < max_records; ++i) {
    Part& p = parts_[(next_part_ + i) % n];
    while (!p.buffer.empty() && out.size() < max_records) {
      ConsumerRecord cr;
      static_cast<Record&>(cr) = std::move(p.buffer.front());
      p.buffer.pop_front();
      cr.topic = topic_;
      cr.partition = p.partition;
      p.position = cr.offset + 1;
      if (p.buffer.empty()) p.position = std::max(*p.position, p.fetch_next);
      ++since_commit_;
      out.push_back(std::move(cr));
    }
  }
  if (!out.empty()) next_part_ = (next_part_ + 1) % n;
}

ClientResult<std::vector<ConsumerRecord>> Consumer::poll(milliseconds timeout, size_t max_records) {
  if (backend_) return backend_->poll(timeout, max_records);
  if (parts_.empty()) return not_assigned();
  if (max_records == 0) max_records = options_.max_poll_records == 0 ? SIZE_MAX : options_.max_poll_records;
  if (options_.auto_commit_every > 0 && !options_.group_id.empty() && since_commit_ >= options_.auto_commit_every)
    if (ClientStatus st = commit(); !st) return st.error();
  const auto deadline = Clock::now() + std::max(timeout, milliseconds(0));
  if (ClientStatus st = resolve_positions(); !st) return st.error();

  std::vector<ConsumerRecord> out;
  drain(out, max_records);
  if (!out.empty()) return out;
  const size_t n = parts_.size();
  for (;;) {
    // Every partition once, without waiting.
    for (size_t i = 0; i < n; ++i) {
      Part& p = parts_[(next_part_ + i) % n];
      if (!p.buffer.empty()) continue;
      if (ClientStatus st = fetch_into(p, milliseconds(0)); !st) return st.error();
    }
    drain(out, max_records);
    if (!out.empty()) return out;
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) return out;
    // Nothing anywhere: long-poll one partition (the wait is shared in turn).
    milliseconds wait = std::min(options_.max_wait, left);
    if (n > 1) wait = std::min(wait, std::max(milliseconds(20), options_.max_wait / static_cast<int>(n)));
    if (wait.count() <= 0) wait = milliseconds(1);
    Part& p = parts_[next_part_ % n];
    next_part_ = (next_part_ + 1) % n;
    if (ClientStatus st = fetch_into(p, wait); !st) return st.error();
    drain(out, max_records);
    if (!out.empty()) return out;
  }
}

ClientStatus Consumer::commit() {
  if (backend_) return backend_->commit();
  if (options_.group_id.empty()) return ClientError::invalid_argument("commit: the consumer has no group_id");
  if (parts_.empty()) return not_assigned();
  for (auto& p : parts_) {
    if (!p.position || p.position == p.committed) continue;
    if (ClientStatus st = client_->commit_offset(options_.group_id, topic_, p.partition, *p.position); !st) return st;
    p.committed = p.position;
  }
  since_commit_ = 0;
  return {};
}

ClientStatus Consumer::close() {
  if (backend_) return backend_->close();
  if (options_.auto_commit_every > 0 && !options_.group_id.empty() && since_commit_ > 0 && !parts_.empty())
    return commit();
  return {};
}

std::vector<PartitionPosition> Consumer::positions() const {
  if (backend_) return backend_->positions();
  std::vector<PartitionPosition> out;
  for (const auto& p : parts_) out.push_back({topic_, p.partition, p.position, p.committed, p.high_watermark});
  return out;
}

const std::string& Consumer::topic() const { return backend_ ? backend_->topic() : topic_; }
uint64_t Consumer::uncommitted() const { return backend_ ? backend_->uncommitted() : since_commit_; }

Client& Consumer::client() {
  if (!client_)
    throw ClientException(ClientError::invalid_argument("Consumer::client(): a Kafka-backed Consumer (" +
                                                        std::string(kKafkaScheme) + "...) has no RustLog Client"));
  return *client_;
}

std::optional<uint64_t> Consumer::position(uint32_t partition) const {
  if (backend_) return backend_->position(partition);
  for (const auto& p : parts_)
    if (p.partition == partition) return p.position;
  return std::nullopt;
}

}  // namespace rustlog::client
