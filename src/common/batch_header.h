#pragma once
// The record batch header — byte layout only, no I/O. Table in
// docs/STORAGE.md "Record batch". All fixed fields are big-endian.
// It lives in common because two layers write batches: storage
// (BatchBuilder, compaction) and protocol (the v0 Produce, which builds its
// batch straight from the request bytes); both use encode_batch_header, the
// one writer of these fields. Reading and checking batches is storage's
// (storage/record_batch.h).
//
//   off size field
//    0   8   base_offset
//    8   4   batch_length         (bytes after this field = total size - 12)
//   12   1   magic                (format version, kBatchMagic)
//   13   4   crc                  (CRC-32C of bytes [0, 13) then [17, end):
//                                     everything but itself, base offset included)
//   17   2   attributes           (bits 0-2: compression codec, 0 = none;
//                                     bit 6: delete horizon in first_timestamp)
//   19   4   last_offset_delta
//   23   8   first_timestamp      (µs since epoch)
//   31   8   max_timestamp        (µs since epoch)
//   39   4   record_count         (0 only for a header-only batch the cleaner
//                                     keeps to hold a cleaned range's last offset)
//   43   ... records (see encode_record in storage/record_batch.cpp)
#include <cstddef>
#include <cstdint>

namespace rustlog {

inline constexpr size_t kBatchHeaderSize = 43;
// Field positions (the table above).
inline constexpr size_t kBatchLengthOffset = 8;
inline constexpr size_t kBatchMagicOffset = 12;
inline constexpr size_t kBatchCrcOffset = 13;
inline constexpr size_t kBatchCrcStart = 17;  // the CRC also covers [0, kBatchCrcOffset)
inline constexpr size_t kBatchAttributesOffset = 17;
inline constexpr size_t kBatchLastDeltaOffset = 19;
inline constexpr size_t kBatchFirstTimestampOffset = 23;
inline constexpr size_t kBatchMaxTimestampOffset = 31;
inline constexpr size_t kBatchRecordCountOffset = 39;
inline constexpr size_t kBatchLogOverhead = 12;  // base_offset + batch_length
inline constexpr uint8_t kBatchMagic = 1;
inline constexpr uint32_t kMaxBatchBytes = 256u << 20;  // sanity bound for parsing
// Attribute bits. Bits 0-2: the compression codec (only 0, none, is
// accepted). The cleaner sets kBatchDeleteHorizonFlag on a batch holding
// tombstones it kept: first_timestamp then holds the batch's delete horizon
// (broker µs since the epoch; its tombstones may be dropped by a pass that
// starts at or after it) and record timestamps are deltas from it.
inline constexpr uint16_t kBatchCompressionMask = 0x0007;
inline constexpr uint16_t kBatchDeleteHorizonFlag = 0x0040;
inline constexpr uint16_t kBatchKnownAttributes = kBatchCompressionMask | kBatchDeleteHorizonFlag;

struct BatchHeader {
  uint64_t base_offset = 0;
  uint32_t batch_length = 0;
  uint8_t magic = kBatchMagic;
  uint32_t crc = 0;
  uint16_t attributes = 0;
  uint32_t last_offset_delta = 0;
  int64_t first_timestamp = 0;
  int64_t max_timestamp = 0;
  uint32_t record_count = 0;

  uint64_t last_offset() const { return base_offset + last_offset_delta; }
  bool has_delete_horizon() const { return (attributes & kBatchDeleteHorizonFlag) != 0; }
  uint64_t next_offset() const { return last_offset() + 1; }
  size_t total_size() const { return kBatchLogOverhead + batch_length; }
};

// Writes every header field of the batch of `n` bytes at `p` (whose records
// follow the header) from `h` — batch_length from `n`, the CRC last. The one
// encoder of the header: BatchBuilder and the v0 produce path use it.
void encode_batch_header(uint8_t* p, size_t n, const BatchHeader& h);

// The CRC of a whole batch of `n` bytes: everything except the CRC field.
uint32_t compute_batch_crc(const uint8_t* p, size_t n);

}  // namespace rustlog
