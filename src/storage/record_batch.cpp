#include "storage/record_batch.h"

#include <algorithm>
#include <limits>

#include "common/byte_order.h"
#include "common/crc32c.h"
#include "common/varint.h"
#include "storage/record_view.h"

namespace rustlog {

// Record layout (inside a batch, after the header):
//   uvarint body_length
//   body: u8 attributes (0) | varint timestamp_delta (vs first_timestamp)
//         | uvarint offset_delta | varint key_length (-1 = null) | key
//         | varint value_length (-1 = null) | value
//         | uvarint header_count | header_count x (uvarint name_length | name
//                                                  | uvarint value_length | value)

const char* batch_error_name(BatchError e) {
  switch (e) {
    case BatchError::kOk: return "ok";
    case BatchError::kShortHeader: return "short header";
    case BatchError::kShortBatch: return "short batch";
    case BatchError::kBadLength: return "bad length";
    case BatchError::kBadMagic: return "bad magic";
    case BatchError::kBadHeader: return "bad header fields";
    case BatchError::kCrcMismatch: return "CRC mismatch";
    case BatchError::kOffsetBackwards: return "offset goes backwards";
    case BatchError::kOffsetMismatch: return "offset differs from the index";
    case BatchError::kOutsideSegment: return "offsets outside the segment";
    case BatchError::kBadRecords: return "records inconsistent with the batch header";
  }
  return "unknown";
}

BatchError parse_batch_header(const uint8_t* p, size_t n, BatchHeader* h) {
  if (n < kBatchLogOverhead) return BatchError::kShortHeader;
  h->base_offset = get_u64(p);
  h->batch_length = get_u32(p + kBatchLengthOffset);
  if (h->batch_length < kBatchHeaderSize - kBatchLogOverhead || h->batch_length > kMaxBatchBytes)
    return BatchError::kBadLength;
  if (n < kBatchHeaderSize) return BatchError::kShortHeader;
  h->magic = p[kBatchMagicOffset];
  if (h->magic != kBatchMagic) return BatchError::kBadMagic;
  h->crc = get_u32(p + kBatchCrcOffset);
  h->attributes = get_u16(p + kBatchAttributesOffset);
  h->last_offset_delta = get_u32(p + kBatchLastDeltaOffset);
  h->first_timestamp = static_cast<int64_t>(get_u64(p + kBatchFirstTimestampOffset));
  h->max_timestamp = static_cast<int64_t>(get_u64(p + kBatchMaxTimestampOffset));
  h->record_count = get_u32(p + kBatchRecordCountOffset);
  // Each record needs at least 7 bytes (length, attrs, ts, delta, key, value, hdrs).
  const uint64_t body = h->batch_length - (kBatchHeaderSize - kBatchLogOverhead);
  // A record count of 0 is a header-only batch (encode_empty_batch) and
  // nothing else.
  if (h->record_count == 0 ? body != 0 : uint64_t{h->record_count} * 7 > body)
    return BatchError::kBadHeader;
  if (h->record_count > 0 && h->last_offset_delta < h->record_count - 1) return BatchError::kBadHeader;
  if (h->base_offset > std::numeric_limits<uint64_t>::max() - h->last_offset_delta - 1)
    return BatchError::kBadHeader;
  if (n < h->total_size()) return BatchError::kShortBatch;
  return BatchError::kOk;
}

bool batch_crc_ok(const uint8_t* p, const BatchHeader& h) {
  return compute_batch_crc(p, h.total_size()) == h.crc;
}

void assign_base_offset(uint8_t* p, size_t n, uint64_t base_offset) {
  put_u64(p, base_offset);
  put_u32(p + kBatchCrcOffset, compute_batch_crc(p, n));
}

std::string encode_empty_batch(uint64_t base_offset, uint32_t last_offset_delta, int64_t first_timestamp,
                               int64_t max_timestamp) {
  std::string out(kBatchHeaderSize, '\0');
  BatchHeader h;
  h.base_offset = base_offset;
  h.last_offset_delta = last_offset_delta;
  h.first_timestamp = first_timestamp;
  h.max_timestamp = max_timestamp;
  h.record_count = 0;
  encode_batch_header(reinterpret_cast<uint8_t*>(out.data()), out.size(), h);
  return out;
}

BatchBuilder::BatchBuilder(uint64_t base_offset) : base_offset_(base_offset) {
  buf_.resize(kBatchHeaderSize);
}

void BatchBuilder::set_delete_horizon(int64_t horizon_us) {
  horizon_ = true;
  first_ts_ = horizon_us;
}

void BatchBuilder::add(int64_t ts, const std::optional<std::string>& key,
                       const std::optional<std::string>& value,
                       const std::vector<RecordHeader>& headers) {
  add_impl(count_ == 0 ? 0 : last_delta_ + 1, ts, key, value, headers);
}

void BatchBuilder::add_with_offset(const Record& r) {
  add_impl(static_cast<uint32_t>(r.offset - base_offset_), r.timestamp_us, r.key, r.value,
           r.headers);
}

void BatchBuilder::add_impl(uint32_t delta, int64_t ts, const std::optional<std::string>& key,
                            const std::optional<std::string>& value,
                            const std::vector<RecordHeader>& headers) {
  if (count_ == 0) {
    if (!horizon_) first_ts_ = ts;  // with a horizon, deltas are from it
    max_ts_ = ts;
  }
  max_ts_ = std::max(max_ts_, ts);
  // Wraps (mod 2^64) instead of overflowing; decode_batch adds it back the
  // same way, so any two timestamps round-trip.
  const int64_t ts_delta =
      static_cast<int64_t>(static_cast<uint64_t>(ts) - static_cast<uint64_t>(first_ts_));
  const int64_t klen = key ? static_cast<int64_t>(key->size()) : -1;
  const int64_t vlen = value ? static_cast<int64_t>(value->size()) : -1;
  size_t body = 1 + varint_size(ts_delta) + uvarint_size(delta) + varint_size(klen) +
                (key ? key->size() : 0) + varint_size(vlen) + (value ? value->size() : 0) +
                uvarint_size(headers.size());
  for (const auto& h : headers)
    body += uvarint_size(h.name.size()) + h.name.size() + uvarint_size(h.value.size()) +
            h.value.size();
  buf_.reserve(buf_.size() + body + 5);
  put_uvarint(buf_, body);
  buf_.push_back(0);
  put_varint(buf_, ts_delta);
  put_uvarint(buf_, delta);
  put_varint(buf_, klen);
  if (key) buf_.append(*key);
  put_varint(buf_, vlen);
  if (value) buf_.append(*value);
  put_uvarint(buf_, headers.size());
  for (const auto& h : headers) {
    put_uvarint(buf_, h.name.size());
    buf_.append(h.name);
    put_uvarint(buf_, h.value.size());
    buf_.append(h.value);
  }
  last_delta_ = delta;
  ++count_;
}

std::string BatchBuilder::finish() {
  BatchHeader h;
  h.base_offset = base_offset_;
  h.last_offset_delta = last_delta_;
  h.first_timestamp = first_ts_;
  h.max_timestamp = max_ts_;
  h.record_count = count_;
  h.attributes = horizon_ ? kBatchDeleteHorizonFlag : 0;
  encode_batch_header(reinterpret_cast<uint8_t*>(buf_.data()), buf_.size(), h);
  std::string out = std::move(buf_);
  buf_.assign(kBatchHeaderSize, '\0');
  count_ = 0;
  last_delta_ = 0;
  horizon_ = false;
  return out;
}

Status decode_batch(const uint8_t* p, size_t n, BatchHeader* hp, std::vector<Record>* records) {
  BatchHeader local;
  BatchHeader& h = hp ? *hp : local;
  const BatchError e = parse_batch_header(p, n, &h);
  if (is_short(e))
    return Status(ErrorCode::kCorruptRecord, "truncated batch: " + std::to_string(n) + " bytes");
  if (e != BatchError::kOk) return Status(ErrorCode::kCorruptRecord, "invalid batch header");
  if (n != h.total_size())
    return Status(ErrorCode::kCorruptRecord, "batch at offsets " + std::to_string(h.base_offset) + ".." +
                                                 std::to_string(h.last_offset()) +
                                                 ": trailing bytes after batch");
  // The record loop is RecordWalker's, over this one batch.
  RecordWalker w(std::string_view(reinterpret_cast<const char*>(p), n), /*check_crc=*/true);
  RecordView v;
  while (w.next(&v))
    if (records) records->push_back(to_record(v));
  return w.status();
}

Status decode_batches(std::string_view data, uint64_t min_offset, std::vector<Record>* out) {
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  size_t left = data.size();
  std::vector<Record> tmp;
  while (left > 0) {
    BatchHeader h;
    if (parse_batch_header(p, left, &h) != BatchError::kOk)
      return Status(ErrorCode::kCorruptRecord, "buffer does not hold whole batches");
    tmp.clear();
    RUSTLOG_RETURN_IF_ERROR(decode_batch(p, h.total_size(), &h, &tmp));
    for (auto& r : tmp)
      if (r.offset >= min_offset) out->push_back(std::move(r));
    p += h.total_size();
    left -= h.total_size();
  }
  return Status::ok();
}

}  // namespace rustlog
