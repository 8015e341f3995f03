// Produces: v0 (the fast path), the generic Produce and ProduceEx, and the
// grouped writes of the produces a connection pipelines (broker.h,
// write_group): each builds its batch at the offset the log will assign
// and appends it, or stages it behind the other batches of its partition.
#include <algorithm>

#include "broker/broker.h"
#include "broker/fetchable.h"
#include "protocol/codec.h"
#include "protocol/produce_v0.h"
#include "storage/produced_batch.h"
#include "storage/record_batch.h"
#include "topics/topic_name.h"

namespace rustlog {

using namespace protocol;

Result<PartitionLog*> Broker::writable_partition(const std::string& topic, uint32_t partition) {
  if (is_internal_topic(topic) && registry_->find(topic))
    return Status(ErrorCode::kInvalidRequest, "topic '" + topic + "' is internal and cannot be written by clients");
  auto p = registry_->partition(topic, partition);
  if (!p) return p.status();
  if ((*p)->read_only()) return (*p)->fatal_error();
  return *p;
}

Broker::Out Broker::append(PartitionLog& log, std::string& batch, uint32_t count, int64_t now_us,
                           Effects& fx, AppendInfo* info) {
  RUSTLOG_RETURN_IF_ERROR(check_fetchable(batch, count, cfg_.max_frame_bytes));
  return append_fetchable(log, batch, count, now_us, fx, info);
}

Broker::Out Broker::append_fetchable(PartitionLog& log, std::string& batch, uint32_t count, int64_t now_us,
                                     Effects& fx, AppendInfo* info) {
  // compression.type other than producer: stored with the topic's codec.
  if (const auto& c = log.config().compression)
    RUSTLOG_RETURN_IF_ERROR(recompress_batch(&batch, *c, cfg_.max_decompressed_batch_bytes));
  if (grouping_) {
    stage(log, batch, count, now_us, info);
    fx.staged = true;
    return Response(PongResponse{});  // replaced by the caller
  }
  const size_t bytes = batch.size();
  auto r = log.append(batch, now_us);
  if (!r) return r.status();
  *info = *r;
  note_written(log, count, bytes);
  if (log.config().flush.kind == FlushPolicy::Kind::kAlways) fx.wait_flush = &log;
  return Response(PongResponse{});  // replaced by the caller
}

void Broker::note_written(PartitionLog& log, uint32_t records, uint64_t bytes) {
  note_appended(&log);
  PartitionCounters& pc = partition_counters(&log);
  pc.records_in.inc(records);
  pc.bytes_in.inc(bytes);
  metrics_.produce_batch_records.record(records);
  metrics_.produce_batch_bytes.record(bytes);
}

uint64_t Broker::next_append_offset(const PartitionLog& log) const {
  for (const Run& r : runs_)
    if (r.log == &log) return r.next;
  return log.high_watermark();
}

// ------------------------------------------------------------ grouped appends

void Broker::stage(PartitionLog& log, std::string& batch, uint32_t count, int64_t now_us, AppendInfo* info) {
  auto run = std::find_if(runs_.begin(), runs_.end(), [&](const Run& r) { return r.log == &log; });
  const uint64_t cap = std::min<uint64_t>(kGroupBytes, log.config().segment_bytes);
  if (run != runs_.end() && run->bytes.size() + batch.size() > cap) {
    // Written now, so a write never grows past the cap; if it failed, the
    // batch below was built at an offset the log did not reach and
    // append_batches re-bases it (its answer takes the offset it gets).
    write_run(*run);
    runs_.erase(run);
    run = runs_.end();
  }
  if (run == runs_.end()) {
    runs_.push_back(Run{&log, {}, log.high_watermark(), now_us, {}});
    run = runs_.end() - 1;
  }
  info->base_offset = run->next;
  info->last_offset = run->next + count - 1;
  run->next += count;
  run->bytes += batch;
  run->members.push_back(staged_.size());
  staged_.push_back(StagedProduce{&log, run->next, count, batch.size(), 0, false, {}, Status::ok()});
}

Outcome Broker::staged(uint8_t type, bool handshaken, std::string frame) {
  StagedProduce& s = staged_.back();
  s.type = type;
  s.handshaken = handshaken;
  s.frame = std::move(frame);
  return outcome::Staged{s.frame.size(), s.log->config().flush.kind == FlushPolicy::Kind::kAlways};
}

void Broker::write_run(Run& run) {
  auto r = run.log->append_batches(run.bytes, run.now_us);
  Status st = r ? Status::ok() : r.status();
  if (r && r->last_offset + 1 != run.next)  // nothing else appends while a group is open
    st = Status(ErrorCode::kStorageError, "grouped append took offsets " + std::to_string(r->base_offset) + ".." +
                                              std::to_string(r->last_offset) + ", expected to end at " +
                                              std::to_string(run.next));
  for (size_t i : run.members) {
    StagedProduce& s = staged_[i];
    s.result = st;
    if (st) note_written(*s.log, s.records, s.bytes);
  }
}

std::vector<Outcome> Broker::write_group() {
  for (Run& run : runs_) write_run(run);
  runs_.clear();
  std::vector<Outcome> out;
  out.reserve(staged_.size());
  for (StagedProduce& s : staged_) {
    if (!s.result) {
      metrics_.on_error(s.type, s.result.code());
      out.emplace_back(outcome::Ready{encode_error_for(s.type, s.handshaken, s.result)});
    } else if (s.log->config().flush.kind == FlushPolicy::Kind::kAlways) {
      out.emplace_back(outcome::AwaitFlush{std::move(s.frame), {log_id(s.log), s.end}});
    } else {
      out.emplace_back(outcome::Ready{std::move(s.frame)});
    }
  }
  staged_.clear();
  return out;
}

namespace {
Status keyless_to_compacted(const std::string& topic) {
  return Status(ErrorCode::kInvalidRequest,
                "topic '" + topic + "' has cleanup.policy compact: every record needs a key (compaction "
                "keeps the latest record per key); send keyed records (e.g. rustlog produce -k :)");
}
}  // namespace

bool Broker::compacted(const std::string& topic) {
  const Topic* t = registry_->find(topic);
  return t && t->config.compacts();
}

Broker::Out Broker::produce(const ProduceRequest& r, int64_t now_us, Effects& fx) {
  auto p = writable_partition(r.topic, r.partition);
  if (!p) return p.status();
  if (compacted(r.topic)) return keyless_to_compacted(r.topic);  // v0 records carry no key
  if (r.records.empty()) return Status(ErrorCode::kInvalidRequest, "produce carries no records");
  BatchBuilder b(next_append_offset(**p));  // the offset append() assigns: one CRC pass
  static const std::vector<RecordHeader> kNoHeaders;
  for (const auto& v : r.records) b.add(now_us, std::nullopt, v, kNoHeaders);
  std::string batch = b.finish();
  AppendInfo info;
  auto st = append(**p, batch, static_cast<uint32_t>(r.records.size()), now_us, fx, &info);
  if (!st) return st;
  return Response(ProduceResponse{info.base_offset, static_cast<uint32_t>(r.records.size())});
}

Status Broker::produce_v0(const ProduceV0& lp, int64_t now_us, Effects& fx, std::string& frame) {
  topic_buf_.assign(lp.topic);
  auto p = writable_partition(topic_buf_, lp.partition);
  if (!p) return p.status();
  if (compacted(topic_buf_)) return keyless_to_compacted(topic_buf_);
  build_produce_v0_batch(lp, now_us, batch_buf_, next_append_offset(**p));
  AppendInfo info;
  auto st = append(**p, batch_buf_, lp.count, now_us, fx, &info);
  if (batch_buf_.capacity() > (4u << 20)) std::string().swap(batch_buf_);  // keep no large buffer around
  if (!st) return st.status();
  encode_produce_v0_response(info.base_offset, lp.count, frame);
  return Status::ok();
}

Broker::Out Broker::produce_ex(const ProduceExRequest& r, int64_t now_us, Effects& fx) {
  auto p = writable_partition(r.topic, r.partition);
  if (!p) return p.status();
  if (r.records.empty()) return Status(ErrorCode::kInvalidRequest, "produce carries no records");
  if (compacted(r.topic))
    for (const auto& rec : r.records)
      if (!rec.key) return keyless_to_compacted(r.topic);
  BatchBuilder b(next_append_offset(**p));
  for (const auto& rec : r.records) b.add(effective_timestamp(r, rec, now_us), rec.key, rec.value, rec.headers);
  std::string batch = b.finish();
  AppendInfo info;
  auto st = append(**p, batch, static_cast<uint32_t>(r.records.size()), now_us, fx, &info);
  if (!st) return st;
  return Response(ProduceExResponse{info.base_offset, static_cast<uint32_t>(r.records.size()), now_us});
}

}  // namespace rustlog
