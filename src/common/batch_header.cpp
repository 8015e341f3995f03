#include "common/batch_header.h"

#include "common/byte_order.h"
#include "common/crc32c.h"

namespace rustlog {

void encode_batch_header(uint8_t* p, size_t n, const BatchHeader& h) {
  put_u64(p, h.base_offset);
  put_u32(p + kBatchLengthOffset, static_cast<uint32_t>(n - kBatchLogOverhead));
  p[kBatchMagicOffset] = h.magic;
  put_u16(p + kBatchAttributesOffset, h.attributes);
  put_u32(p + kBatchLastDeltaOffset, h.last_offset_delta);
  put_u64(p + kBatchFirstTimestampOffset, static_cast<uint64_t>(h.first_timestamp));
  put_u64(p + kBatchMaxTimestampOffset, static_cast<uint64_t>(h.max_timestamp));
  put_u32(p + kBatchRecordCountOffset, h.record_count);
  put_u32(p + kBatchCrcOffset, compute_batch_crc(p, n));
}

uint32_t compute_batch_crc(const uint8_t* p, size_t n) {
  return crc32c(p + kBatchCrcStart, n - kBatchCrcStart, crc32c(p, kBatchCrcOffset));
}

}  // namespace rustlog
