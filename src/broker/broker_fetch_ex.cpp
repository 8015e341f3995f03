// FetchEx in Broker: read a slice per event-loop turn like the legacy
// fetch (broker_fetch.cpp), each slice's records written straight into the
// answer (broker/fetch_ex_walk.h), and its long-poll retry (retry_fetch).
// The answer is exactly that of one read of max_bytes decoded and encoded
// whole, as long as the log does not change between the slices
// (tests/unit/fetch_ex_slices_test.cpp).
#include <algorithm>
#include <memory>

#include "broker/broker.h"
#include "broker/fetch_ex_walk.h"
#include "protocol/codec.h"

namespace rustlog {

using namespace protocol;

Status Broker::fetch_ex(const FetchExRequest& r, bool final, Effects& fx, std::string& frame) {
  auto p = registry_->partition(r.topic, r.partition);
  if (!p) return p.status();
  // A FetchEx record carries fixed fields (offset, timestamp, lengths) that
  // can make it up to 4x its size in a batch (tiny records): cap the read so
  // the answer fits a frame.
  auto st = std::make_unique<FetchState>(r.offset, std::min(r.max_bytes, cfg_.max_frame_bytes / 4));
  st->topic = r.topic;
  st->partition = r.partition;
  st->log = log_id(*p);
  st->ex.emplace(r);
  st->ex->next_offset = r.offset;
  st->ex->enc.splice_into(&st->splices);  // large values go out from the segment mapping
  st->ex->enc.begin(st->frame);
  // A long poll waits until min_bytes (at least one) are there: slices are
  // read in this turn until that many are, or the read is complete, so the
  // decision is that of one read of max_bytes.
  const uint64_t need = final || r.max_wait_ms == 0 ? 0 : std::max<uint32_t>(r.min_bytes, 1);
  Status err;
  bool done = false;
  do {
    done = fetch_ex_step(*st, &err);
  } while (!done && st->ex->read_bytes < need);
  if (done && err.is_ok() && st->ex->read_bytes < need) {
    fx.park = r;
    return Status::ok();
  }
  if (!done) {
    fx.slices = std::move(st);
    return Status::ok();
  }
  if (!err) return err;
  count_fetch_ex(*st);
  frame = std::move(st->frame);
  fx.splices = std::move(st->splices);
  return Status::ok();
}

void Broker::count_fetch_ex(const FetchState& st) {
  PartitionLog* log = log_for(st.topic, st.partition);
  if (!log || log_id(log) != st.log) return;
  PartitionCounters& pc = partition_counters(log);
  pc.records_out.inc(st.ex->enc.records());
  pc.bytes_out.inc(st.ex->read_bytes);
}

// One slice of a FetchEx: as fetch_step reads it (whole batches while they
// fit in max_bytes, the first always, the same as one read), its records at
// or after the request's offset added to the answer. True when the answer is
// complete (st.frame) or failed (*err).
bool Broker::fetch_ex_step(FetchState& st, Status* err) {
  FetchExPart& ex = *st.ex;
  auto p = registry_->partition(st.topic, st.partition);
  if (p && log_id(*p) != st.log) p = Status(ErrorCode::kTopicNotFound, "the partition was deleted");
  if (!p) {  // deleted between two slices: answer with what was read
    if (st.first) *err = p.status();
    else *err = finish_fetch_ex(st, nullptr);
    return true;
  }
  PartitionLog& log = **p;
  const uint64_t slice = std::min(kFetchSliceBytes, st.batch_budget);
  // Each batch's records go from the segment's bytes straight into the
  // answer (no copy of the batches). The answer re-encodes records, so the
  // walk checks each CRC as it goes (docs/STORAGE.md, "Verified once").
  Status walk;
  auto rr = read_visible(log, st.read_at, static_cast<uint32_t>(slice),
                         st.first ? SIZE_MAX : static_cast<size_t>(st.batch_budget),
                         [&](std::string_view b, const BytesPin& pin) {
                           if (walk.is_ok() && !ex.overflow)
                             walk = add_fetch_ex_records(ex.enc, b, ex.request.offset, /*check_crc=*/true, st.frame,
                                                         cfg_.max_decompressed_batch_bytes, pin);
                         });
  if (!rr) {
    if (st.first) *err = rr.status();
    else *err = finish_fetch_ex(st, &log);  // as one read returns what was good before a bad batch
    return true;
  }
  ex.high_watermark = rr->high_watermark;
  ex.log_start_offset = rr->log_start_offset;
  const size_t read = rr->bytes;
  if (read == 0) {
    *err = finish_fetch_ex(st, &log);
    return true;
  }
  if (!ex.overflow) {
    if (!walk) {
      *err = walk;
      return true;
    }
    if (ex.enc.answer_bytes(st.frame) > cfg_.max_frame_bytes) {
      ex.overflow = true;
      ex.enc.clear(st.frame);
      std::string().swap(st.frame);
    }
  }
  st.first = false;
  ex.read_bytes += read;
  ex.next_offset = rr->next_offset;
  st.batch_budget -= std::min<uint64_t>(st.batch_budget, read);
  st.read_at = rr->next_offset;
  if (st.batch_budget == 0 || st.read_at >= visible_end(log)) {
    *err = finish_fetch_ex(st, &log);
    return true;
  }
  return false;
}

// Completes a FetchEx answer. After the last batch read, also when it held
// no record at or after the offset (a cleaned log's header-only batch):
// never the request's offset again once anything was read, or a consumer
// would ask for it forever.
Status Broker::finish_fetch_ex(FetchState& st, PartitionLog* log) {
  FetchExPart& ex = *st.ex;
  const uint64_t offset = ex.request.offset;
  if (ex.overflow && log) {
    // Batches of tiny records after a large first one: the first batch
    // alone always fits (the produce that wrote it was checked, fetchable.h).
    st.frame.clear();
    ex.enc.begin(st.frame);
    Status walk;
    auto rr = read_visible(*log, offset, 1, SIZE_MAX, [&](std::string_view b, const BytesPin& pin) {
      if (walk.is_ok())
        walk = add_fetch_ex_records(ex.enc, b, offset, /*check_crc=*/true, st.frame,
                                    cfg_.max_decompressed_batch_bytes, pin);
    });
    if (!rr) return rr.status();
    RUSTLOG_RETURN_IF_ERROR(walk);
    ex.read_bytes = rr->bytes;
    ex.next_offset = rr->next_offset;
    ex.high_watermark = rr->high_watermark;
    ex.log_start_offset = rr->log_start_offset;
  } else if (ex.overflow) {
    return Status(ErrorCode::kTopicNotFound, "the partition was deleted");
  }
  const uint64_t next = ex.read_bytes == 0 ? offset : std::max(offset, ex.next_offset);
  return ex.enc.finish(st.frame, ex.high_watermark, ex.log_start_offset, next, cfg_.max_frame_bytes);
}

Outcome Broker::retry_fetch(const FetchExRequest& req, bool final, bool handshaken) {
  Effects fx;
  std::string frame;
  Status st = fetch_ex(req, final, fx, frame);
  if (fx.park) return outcome::LongPoll{std::move(*fx.park), 0};
  if (!st) {
    metrics_.on_error(static_cast<uint8_t>(MessageType::kFetchEx), st.code());
    return outcome::Ready{encode_error(st)};
  }
  if (fx.slices) {
    fx.slices->handshaken = handshaken;
    return outcome::FetchSlices{std::move(fx.slices)};
  }
  return outcome::Ready{std::move(frame), std::move(fx.splices)};
}

}  // namespace rustlog
