#include "client/record_accumulator.h"

#include <algorithm>

namespace rustlog::client {

ProducerBatch::ProducerBatch(const std::string& topic, uint32_t partition, uint64_t seq_, Clock::time_point created_)
    : encoder(std::in_place, topic, partition, protocol::kBrokerTimestamp),
      outcome(std::make_shared<detail::BatchOutcome>(topic, partition)),
      seq(seq_),
      created(created_) {}

uint32_t RecordAccumulator::partition_count(const std::string& topic) const {
  auto it = topics_.find(topic);
  return it == topics_.end() ? 0 : static_cast<uint32_t>(it->second.parts.size());
}

void RecordAccumulator::add_topic(const std::string& topic, uint32_t partition_count) {
  if (topics_.count(topic)) return;
  TopicState& t = topics_[topic];
  t.parts.resize(partition_count);
  t.sticky = partition_count ? static_cast<uint32_t>(rng_() % partition_count) : 0;
}

std::vector<std::unique_ptr<ProducerBatch>> RecordAccumulator::forget_topic(const std::string& topic) {
  std::vector<std::unique_ptr<ProducerBatch>> out;
  auto it = topics_.find(topic);
  if (it == topics_.end()) return out;
  for (uint32_t p = 0; p < it->second.parts.size(); ++p)
    for (auto& b : take_partition(topic, p)) out.push_back(std::move(b));
  // Their open batches are gone; drop the (stale) references into the topic.
  const PartitionQueue* first = it->second.parts.data();
  const PartitionQueue* last = first + it->second.parts.size();
  std::erase_if(open_order_, [&](const OpenRef& r) { return r.queue >= first && r.queue < last; });
  topics_.erase(it);
  return out;
}

uint32_t RecordAccumulator::choose_partition(const std::string& topic, const protocol::ProducerRecord& record,
                                             int64_t explicit_partition) {
  TopicState& t = topics_.at(topic);
  const auto n = static_cast<uint32_t>(t.parts.size());
  if (explicit_partition >= 0) return static_cast<uint32_t>(explicit_partition);
  if (record.key) return partition_for_key(*record.key, n);
  if (options_.unkeyed == UnkeyedPartitioning::kFirstPartition || n <= 1) return 0;
  // Sticky: stay while the batch we were filling is still open there.
  const PartitionQueue& q = t.parts[t.sticky];
  if (t.sticky_seq != UINT64_MAX && !(q.open && q.open->seq == t.sticky_seq)) t.sticky = (t.sticky + 1) % n;
  return t.sticky;
}

RecordAccumulator::PartitionQueue& RecordAccumulator::queue_of(const ProducerBatch& batch) {
  return topics_.at(batch.topic()).parts.at(batch.partition());
}

RecordAccumulator::Appended RecordAccumulator::append(const std::string& topic, uint32_t partition,
                                                      std::string_view encoded, bool sticky_choice, int64_t timestamp_us,
                                                      SendCallback callback, Clock::time_point now) {
  const size_t bytes = encoded.size();
  TopicState& t = topics_.at(topic);
  PartitionQueue& q = t.parts.at(partition);
  Appended a;
  const bool own_ts = timestamp_us >= 0;
  if (q.open && q.open->records > 0 &&
      (q.open->encoder->frame_bytes() + bytes > options_.batch_bytes ||
       (options_.one_timestamp_rule && q.open->own_timestamps != own_ts))) {
    seal(q);
    a.sealed = true;
  }
  if (!q.open) {
    q.open = std::make_unique<ProducerBatch>(topic, partition, next_seq_++, now);
    q.open->own_timestamps = own_ts;
    open_order_.push_back({&q, q.open->seq});
    ++open_count_;
    a.opened = true;
  }
  ProducerBatch& b = *q.open;
  b.encoder->add_encoded(encoded);
  const uint32_t index = b.records++;
  b.reserved_bytes += bytes;
  if (callback) b.callbacks.push_back({index, timestamp_us, std::move(callback)});
  a.future = SendFuture(b.outcome, index, timestamp_us);
  if (sticky_choice) t.sticky_seq = b.seq;
  if (b.encoder->frame_bytes() >= options_.batch_bytes ||
      (options_.batch_records > 0 && b.records >= options_.batch_records)) {
    seal(q);
    a.sealed = true;
  }
  return a;
}

void RecordAccumulator::seal(PartitionQueue& q) {
  --open_count_;
  ++q.sealed_waiting;
  sealed_.push_back(finish(std::move(q.open)));
}

std::unique_ptr<ProducerBatch> RecordAccumulator::finish(std::unique_ptr<ProducerBatch> batch) {
  batch->frame = std::move(*batch->encoder).finish();
  batch->encoder.reset();
  return batch;
}

std::unique_ptr<ProducerBatch> RecordAccumulator::next_ready(Clock::time_point now, bool drain) {
  if (!sealed_.empty()) {
    std::unique_ptr<ProducerBatch> b = std::move(sealed_.front());
    sealed_.pop_front();
    --queue_of(*b).sealed_waiting;
    return b;
  }
  if (PartitionQueue* q = pop_ready_open(now, drain)) {
    --open_count_;
    return finish(std::move(q->open));
  }
  return nullptr;
}

RecordAccumulator::PartitionQueue* RecordAccumulator::pop_ready_open(Clock::time_point now, bool drain) {
  while (!open_order_.empty()) {
    const OpenRef ref = open_order_.front();
    PartitionQueue& q = *ref.queue;
    if (!q.open || q.open->seq != ref.seq) {  // sealed or taken since
      open_order_.pop_front();
      continue;
    }
    if (!drain && now < q.open->created + options_.linger) return nullptr;
    open_order_.pop_front();
    return &q;
  }
  return nullptr;
}

bool RecordAccumulator::seal_ready(Clock::time_point now, bool drain) {
  PartitionQueue* q = pop_ready_open(now, drain);
  if (q) seal(*q);
  return q != nullptr;
}

ProducerBatch* RecordAccumulator::next_to_compress() {
  for (auto& b : sealed_)
    if (!b->compressed && !b->compressing) return b.get();
  return nullptr;
}

std::optional<Clock::time_point> RecordAccumulator::next_deadline() const {
  for (const OpenRef& ref : open_order_)
    if (ref.queue->open && ref.queue->open->seq == ref.seq) return ref.queue->open->created + options_.linger;
  return std::nullopt;
}

std::vector<std::unique_ptr<ProducerBatch>> RecordAccumulator::take_partition(const std::string& topic,
                                                                              uint32_t partition) {
  std::vector<std::unique_ptr<ProducerBatch>> out;
  auto it = topics_.find(topic);
  if (it == topics_.end() || partition >= it->second.parts.size()) return out;
  PartitionQueue& q = it->second.parts[partition];
  if (q.sealed_waiting > 0) {
    auto keep = std::stable_partition(sealed_.begin(), sealed_.end(), [&](const auto& b) {
      return !(b->partition() == partition && b->topic() == topic);
    });
    for (auto i = keep; i != sealed_.end(); ++i) out.push_back(std::move(*i));
    sealed_.erase(keep, sealed_.end());
    q.sealed_waiting = 0;
  }
  if (q.open) {
    --open_count_;
    out.push_back(finish(std::move(q.open)));
  }
  return out;
}

std::vector<std::unique_ptr<ProducerBatch>> RecordAccumulator::take_created_before(Clock::time_point cutoff) {
  std::vector<std::unique_ptr<ProducerBatch>> out;
  for (auto& [topic, t] : topics_) {
    for (uint32_t p = 0; p < t.parts.size(); ++p) {
      const PartitionQueue& q = t.parts[p];
      // The oldest batch of a partition is its first sealed one, else its open one.
      bool old = q.open && q.open->created < cutoff;
      if (!old && q.sealed_waiting > 0)
        for (const auto& b : sealed_)
          if (b->partition() == p && b->topic() == topic) {
            old = b->created < cutoff;
            break;
          }
      // A partition's batches go together, keeping its order.
      if (old)
        for (auto& b : take_partition(topic, p)) out.push_back(std::move(b));
    }
  }
  return out;
}

std::vector<std::unique_ptr<ProducerBatch>> RecordAccumulator::take_all() {
  std::vector<std::unique_ptr<ProducerBatch>> out;
  while (auto b = next_ready(Clock::now(), /*drain=*/true)) out.push_back(std::move(b));
  return out;
}

}  // namespace rustlog::client
