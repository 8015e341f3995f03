// The fetch paths of Broker: what a fetch may see (read_visible), and the
// legacy fetch read a slice per event-loop turn (fetch, fetch_step,
// continue_fetch). FetchEx, also read in slices, is in broker_fetch_ex.cpp.
// Everything else Broker does is in broker.cpp.
#include "broker/broker.h"

#include <algorithm>
#include <memory>

#include "broker/fetch_v0_walk.h"
#include "protocol/answer_size.h"
#include "protocol/codec.h"
#include "protocol/error_codes_v0.h"
#include "storage/record_batch.h"

namespace rustlog {

using namespace protocol;

namespace {
Status out_of_range(uint64_t offset, uint64_t start, uint64_t end) {
  return Status(ErrorCode::kOffsetOutOfRange,
                "offset " + std::to_string(offset) + " is out of range: valid offsets are " +
                    std::to_string(start) + ".." + std::to_string(end));
}
}  // namespace

Result<ReadInfo> Broker::read_visible(PartitionLog& log, uint64_t offset, uint32_t max_bytes,
                                      size_t first_batch_max, const BatchVisitor& visit) {
  const uint64_t end = visible_end(log);
  if (offset < log.log_start_offset() || offset > end)
    return out_of_range(offset, log.log_start_offset(), end);
  // Nothing past what is durable (appended this turn, flush pending).
  auto r = log.read_each(offset,
                         ReadLimits{.max_bytes = max_bytes == 0 ? 1 : max_bytes,
                                    .first_batch_max = first_batch_max,
                                    .max_offset = end},
                         visit);
  if (r) r->high_watermark = end;
  return r;
}

Status Broker::fetch(const FetchRequest& r, Effects& fx, std::string& frame) {
  auto p = registry_->partition(r.topic, r.partition);
  if (!p) return p.status();
  uint64_t offset = r.offset;
  if (!r.group_id.empty())
    if (auto c = offsets_->committed({r.group_id, r.topic, r.partition})) offset = *c;
  // A v0 record on the wire (u32 length + value) is never larger than it is
  // in a batch, so capping the read below the frame limit keeps "as much as
  // you have" requests answerable instead of 413.
  const uint32_t cap = cfg_.max_frame_bytes > 1024 ? cfg_.max_frame_bytes - 1024 : cfg_.max_frame_bytes;
  if (offset < (*p)->log_start_offset()) {
    // Below the log start (retention deleted it): no records and
    // next_offset = the log start, so a v0 client that follows next_offset
    // moves on (the v0 answer has no error field for it).
    FetchV0Encoder enc((*p)->log_start_offset(), 0);
    enc.begin(frame);
    return enc.finish(frame, cfg_.max_frame_bytes);
  }
  auto st = std::make_unique<FetchState>(offset, std::min(r.max_bytes, cap));
  st->topic = r.topic;
  st->partition = r.partition;
  st->log = log_id(*p);
  st->v0.emplace(offset, st->batch_budget);
  st->v0->splice_into(&st->splices);  // large values go out from the segment mapping
  st->v0->begin(st->frame);
  Status err;
  if (!fetch_step(*st, &err)) {
    fx.slices = std::move(st);
    return Status::ok();
  }
  if (!err) return err;
  frame = std::move(st->frame);
  fx.splices = std::move(st->splices);
  return Status::ok();
}

std::optional<std::string> Broker::continue_fetch(FetchState& st) {
  metrics_.fetch_slices.inc();
  Status err;
  if (!(st.ex ? fetch_ex_step(st, &err) : fetch_step(st, &err))) return std::nullopt;
  const auto type = static_cast<uint8_t>(st.ex ? MessageType::kFetchEx : MessageType::kFetch);
  if (!err) {
    st.splices.clear();
    metrics_.on_error(type, err.code());
    return encode_error_for(type, st.handshaken, err);
  }
  if (st.ex) count_fetch_ex(st);
  return std::move(st.frame);
}

// Reads one slice of a legacy fetch into its answer: the same records and
// bytes as one read of max_bytes (whole batches while they fit, the first
// always), as long as the log does not change under it. True when the answer
// is complete: in st.frame, or failed (*err). The answer re-encodes records,
// so it carries no CRC a client could check: the record walk checks each
// batch's CRC as it encodes it, even where the read took it from a range
// verified earlier (docs/STORAGE.md, "Verified once").
bool Broker::fetch_step(FetchState& st, Status* err) {
  auto p = registry_->partition(st.topic, st.partition);
  if (p && log_id(*p) != st.log)  // deleted (and maybe re-created): answer with what was read
    p = Status(ErrorCode::kTopicNotFound, "the partition was deleted");
  PartitionLog* lp = p ? *p : nullptr;
  auto complete = [&]() {
    *err = st.v0->finish(st.frame, cfg_.max_frame_bytes);
    if (err->is_ok() && lp) partition_counters(lp).records_out.inc(st.v0->info().records);
    return true;
  };
  if (!p) {  // deleted between two slices: answer with what was read
    if (st.first) *err = p.status();
    return st.first ? true : complete();
  }
  PartitionLog& log = **p;
  const uint64_t slice = std::min(kFetchSliceBytes, st.batch_budget);
  // After the first slice, only whole batches that still fit in what
  // max_bytes leaves.
  // Each batch's records go from the segment's bytes straight into the
  // answer: no copy of the batches in between.
  Status walk;
  auto rr = read_visible(log, st.read_at, static_cast<uint32_t>(slice),
                         st.first ? SIZE_MAX : static_cast<size_t>(st.batch_budget),
                         [&](std::string_view b, const BytesPin& pin) {
                           if (walk.is_ok())
                             walk = add_fetch_v0_records(*st.v0, b, /*check_crc=*/true, st.frame,
                                                         cfg_.max_decompressed_batch_bytes, pin);
                         });
  if (!rr) {
    if (st.first) {
      *err = rr.status();
      return true;
    }
    return complete();  // as one read returns what was good before a bad batch
  }
  const size_t read = rr->bytes;
  const uint64_t next = rr->next_offset;
  if (read == 0) return complete();
  if (!walk) {
    *err = walk;
    return true;
  }
  const bool full = st.v0->full();
  // Every record of the slice was taken: the answer continues after its
  // last batch, past the gaps compaction leaves (a header-only batch has no
  // record to move next_offset).
  if (!full) st.v0->advance_to(next);
  st.first = false;
  st.batch_budget -= std::min<uint64_t>(st.batch_budget, read);
  st.read_at = next;
  partition_counters(&log).bytes_out.inc(read);
  if (full || st.batch_budget == 0 || st.read_at >= visible_end(log)) return complete();
  return false;
}

}  // namespace rustlog
