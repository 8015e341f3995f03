// The broker's side of the metrics: per-partition counters, and the snapshot
// of partition and group numbers the event loop publishes for the HTTP
// endpoint (which must never touch broker state itself).
#include "broker/broker.h"
#include "common/clock.h"
#include "topics/topic_name.h"

namespace rustlog {

namespace {
constexpr int64_t kPublishMinIntervalMs = 100;   // while requests change things
constexpr int64_t kPublishMaxIntervalMs = 1000;  // when idle (flushes may still move high watermarks)
// (now - then) per second over `ms`.
double per_sec(uint64_t now, uint64_t then, int64_t ms) {
  return ms > 0 && now > then ? static_cast<double>(now - then) * 1000.0 / static_cast<double>(ms) : 0.0;
}
}  // namespace

void Broker::track_partitions(const Topic& t) {
  cleaner_track(t);
  for (const auto& p : t.partitions) {
    if (log_ids_.emplace(p.get(), next_log_id_).second) logs_[next_log_id_++] = p.get();
    auto& slot = partition_counters_[p.get()];
    if (!slot) {
      slot = std::make_unique<PartitionCounters>();
      slot->flushed_size = p->size_bytes();
      // The counters start at zero now: traffic before the next snapshot
      // already shows as a rate.
      slot->recent.offer(steady_ms(), {});
    }
  }
}

PartitionCounters& Broker::partition_counters(const PartitionLog* log) {
  auto it = partition_counters_.find(log);
  if (it != partition_counters_.end()) return *it->second;
  // Every partition is tracked when it appears (open, create_topic); this is
  // only a safety net for a path that forgot, and allocates once.
  auto& slot = partition_counters_[log];
  slot = std::make_unique<PartitionCounters>();
  slot->flushed_size = log->size_bytes();
  return *slot;
}

uint64_t Broker::take_flushed_bytes(PartitionLog* log) {
  PartitionCounters& pc = partition_counters(log);
  const uint64_t size = log->size_bytes();
  const uint64_t delta = size > pc.flushed_size ? size - pc.flushed_size : 0;
  pc.flushed_size = size;
  return delta;
}

void Broker::publish_metrics() {
  auto snap = std::make_unique<metrics::MetricsSnapshot>();
  snap->taken_unix_ms = wall_ms();
  // Recent rates and fsync latency: the difference to the oldest sample of
  // a trailing window (metrics/trailing.h) on the loop's steady clock.
  const int64_t now = steady_ms();
  const metrics::HistogramSnapshot fsync = metrics_.fsync_latency.snapshot();
  if (const auto* old = fsync_recent_.oldest()) {
    snap->window_ms = now - old->at_ms;
    snap->fsync_recent = fsync.since(old->value);
  } else {
    snap->fsync_recent = metrics::HistogramSnapshot(fsync.layout);
  }
  fsync_recent_.offer(now, fsync);
  if (registry_) {
    snap->topics = registry_->topics().size();
    for (const auto& [name, t] : registry_->topics()) {
      for (uint32_t i = 0; i < t->partitions.size(); ++i) {
        const PartitionLog& l = *t->partitions[i];
        PartitionCounters& pc = partition_counters(&l);
        metrics::PartitionStats s;
        s.topic = name;
        s.partition = i;
        s.records_in = pc.records_in.value();
        s.bytes_in = pc.bytes_in.value();
        s.records_out = pc.records_out.value();
        s.bytes_out = pc.bytes_out.value();
        s.high_watermark = visible_end(l);
        s.log_start_offset = l.log_start_offset();
        s.size_bytes = l.size_bytes();
        s.segments = l.segment_count();
        s.read_only = l.read_only();
        s.internal = is_internal_topic(name);
        if (cleaner_ && t->config.compacts())
          if (auto ci = cleaner_->info(name + "-" + std::to_string(i), wall_us())) {
            s.compacted = true;
            s.dirty_ratio = ci->dirty_ratio;
            s.cleaner_lag_bytes = ci->lag_bytes;
            s.cleaner_state = cleaner_state_name(ci->state);
          }
        const std::array<uint64_t, 4> counters = {s.records_in, s.bytes_in, s.records_out, s.bytes_out};
        if (const auto* old = pc.recent.oldest()) {
          const int64_t ms = now - old->at_ms;
          s.records_in_per_sec = per_sec(counters[0], old->value[0], ms);
          s.bytes_in_per_sec = per_sec(counters[1], old->value[1], ms);
          s.records_out_per_sec = per_sec(counters[2], old->value[2], ms);
          s.bytes_out_per_sec = per_sec(counters[3], old->value[3], ms);
        }
        pc.recent.offer(now, counters);
        snap->partitions.push_back(std::move(s));
      }
    }
  }
  if (offsets_) {
    for (const std::string& g : offsets_->groups()) {
      for (const auto& [k, committed] : offsets_->group_offsets(g)) {
        metrics::GroupOffsetStats s;
        s.group = k.group;
        s.topic = k.topic;
        s.partition = k.partition;
        s.committed = committed;
        PartitionLog* l = log_for(k.topic, k.partition);
        s.high_watermark = l ? visible_end(*l) : 0;
        s.lag = s.high_watermark > committed ? s.high_watermark - committed : 0;
        snap->groups.push_back(std::move(s));
      }
    }
  }
  metrics_.snapshots().publish(std::move(snap));
  metrics_published_ms_ = now;
  metrics_dirty_ = false;
}

int64_t Broker::metrics_publish_due_in(int64_t now) const {
  const int64_t since = now - metrics_published_ms_;
  const int64_t wait = (metrics_dirty_ ? kPublishMinIntervalMs : kPublishMaxIntervalMs) - since;
  return wait > 0 ? wait : 0;
}

void Broker::maybe_publish_metrics(int64_t now) {
  if (metrics_publish_due_in(now) == 0) publish_metrics();
  else metrics_.snapshots().reclaim();
}

std::string Broker::render_metrics() {
  publish_metrics();
  return metrics_.render();
}

}  // namespace rustlog
