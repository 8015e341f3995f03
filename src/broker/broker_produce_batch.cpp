// ProduceBatch in Broker: a batch the producer built, its records section
// compressed or not, checked whole once (storage/produced_batch.h: header,
// CRC, codec, every record decompressed within
// --max-decompressed-batch-bytes, timestamps, keys) together with what a
// fetch answer holding it takes (fetchable.h), then stored as it was sent
// with the base offset the log assigns.
#include "broker/broker.h"
#include "broker/fetchable.h"
#include "storage/produced_batch.h"

namespace rustlog {

using namespace protocol;

Broker::Out Broker::produce_batch(const ProduceBatchRequest& r, int64_t now_us, Effects& fx) {
  auto p = writable_partition(r.topic, r.partition);
  if (!p) return p.status();
  FetchableCounter fetchable;
  const ProducedBatchRules rules{.max_decompressed = cfg_.max_decompressed_batch_bytes,
                                 .keys_required = compacted(r.topic)};
  auto checked = check_produced_batch(r.batch, rules, [&](const RecordView& v) { fetchable.add(v); });
  if (!checked) return checked.status();
  const uint32_t count = checked->header.record_count;
  RUSTLOG_RETURN_IF_ERROR(fetchable.check(count, cfg_.max_frame_bytes));
  batch_buf_.assign(r.batch);
  place_produced_batch(reinterpret_cast<uint8_t*>(batch_buf_.data()), batch_buf_.size(), *checked,
                       next_append_offset(**p), now_us);
  AppendInfo info;
  auto st = append_fetchable(**p, batch_buf_, count, now_us, fx, &info);
  if (batch_buf_.capacity() > (4u << 20)) std::string().swap(batch_buf_);  // keep no large buffer around
  if (!st) return st.status();
  return Response(ProduceBatchResponse{info.base_offset, count, now_us});
}

}  // namespace rustlog
