#include "storage/record_batch.h"

#include <algorithm>
#include <limits>

#include "common/byte_order.h"
#include "common/crc32c.h"
#include "common/varint.h"
#include "storage/record_view.h"

namespace rustlog {

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
  // Each record needs at least 7 bytes (length, attrs, ts, delta, key, value,
  // hdrs) of the records section: of the stored bytes when they are plain,
  // of the decompressed ones otherwise (the record walker checks those).
  const uint64_t body = h->batch_length - (kBatchHeaderSize - kBatchLogOverhead);
  const bool compressed = (h->attributes & kBatchCompressionMask) != 0;
  // A record count of 0 is a header-only batch (encode_empty_batch) and
  // nothing else; a compressed batch has records and a block.
  if (h->record_count == 0 ? body != 0 || compressed
                           : compressed ? body == 0 : uint64_t{h->record_count} * 7 > body)
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

Status decode_batch(const uint8_t* p, size_t n, BatchHeader* hp, std::vector<Record>* records,
                    size_t max_decompressed) {
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
  RecordWalker w(std::string_view(reinterpret_cast<const char*>(p), n), /*check_crc=*/true, max_decompressed);
  RecordView v;
  while (w.next(&v))
    if (records) records->push_back(to_record(v));
  return w.status();
}

Status decode_batches(std::string_view data, uint64_t min_offset, std::vector<Record>* out,
                      size_t max_decompressed) {
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  size_t left = data.size();
  std::vector<Record> tmp;
  while (left > 0) {
    BatchHeader h;
    if (parse_batch_header(p, left, &h) != BatchError::kOk)
      return Status(ErrorCode::kCorruptRecord, "buffer does not hold whole batches");
    tmp.clear();
    RUSTLOG_RETURN_IF_ERROR(decode_batch(p, h.total_size(), &h, &tmp, max_decompressed));
    for (auto& r : tmp)
      if (r.offset >= min_offset) out->push_back(std::move(r));
    p += h.total_size();
    left -= h.total_size();
  }
  return Status::ok();
}

}  // namespace rustlog
