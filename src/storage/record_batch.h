#pragma once
// The on-disk (and in-memory) record batch format — byte layout only, no I/O.
// Table in docs/STORAGE.md "Record batch". All fixed fields are big-endian.
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
//   43   ... records (see encode_record in record_batch.cpp)
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/record.h"
#include "common/status.h"

namespace rustlog {

inline constexpr size_t kBatchHeaderSize = 43;
// Field positions (the table above); only record_batch.cpp reads or writes
// header fields by position.
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

// Why bytes are not the next whole, valid batch. parse_batch_header returns
// the first five; the batch scanner (batch_scanner.h) adds the checks that
// need the whole batch or its place in a segment.
enum class BatchError : uint8_t {
  kOk = 0,
  kShortHeader,    // fewer bytes left than a batch header (torn write)
  kShortBatch,     // the header declares more bytes than are left (torn, or a damaged length)
  kBadLength,      // batch length shorter than a header or above kMaxBatchBytes
  kBadMagic,       // unknown format version
  kBadHeader,      // impossible record count, last offset delta or base offset
  kCrcMismatch,    // the bytes are not those the CRC was computed over
  kOffsetBackwards,   // base offset below the end of the batch before it
  kOffsetMismatch,    // base offset is not the one an index entry promised
  kOutsideSegment,    // offsets that cannot belong to this segment
};
const char* batch_error_name(BatchError e);
// A torn write looks like this: the bytes simply stop early.
inline bool is_short(BatchError e) { return e == BatchError::kShortHeader || e == BatchError::kShortBatch; }

// Parses the fixed header from `n` available bytes (only the first
// kBatchHeaderSize are read). The fields are filled as far as they were
// read, so a caller can say why (the declared length, the magic byte).
BatchError parse_batch_header(const uint8_t* p, size_t n, BatchHeader* out);

// Writes every header field of the batch of `n` bytes at `p` (whose records
// follow the header) from `h` — batch_length from `n`, the CRC last. The one
// encoder of the header: BatchBuilder and the legacy produce path use it.
void encode_batch_header(uint8_t* p, size_t n, const BatchHeader& h);

// The CRC of a whole batch of `n` bytes: everything except the CRC field.
uint32_t compute_batch_crc(const uint8_t* p, size_t n);

// True when the stored CRC matches the bytes. `p` points at a whole batch.
bool batch_crc_ok(const uint8_t* p, const BatchHeader& h);

// Rewrites base_offset in place and recomputes the CRC (which covers it, so
// a damaged base offset can never pass as another offset). Producers that
// know the offset build the batch with it and avoid this second CRC pass.
void assign_base_offset(uint8_t* p, size_t n, uint64_t base_offset);

// A header-only batch (record_count 0) covering offsets
// [base_offset, base_offset + last_offset_delta]: what the cleaner keeps
// when every record of a cleaned range's last batch is removed, so the
// range still ends at its original last offset.
std::string encode_empty_batch(uint64_t base_offset, uint32_t last_offset_delta, int64_t first_timestamp,
                               int64_t max_timestamp);

// Builds one batch. Offsets are assigned as base_offset + index unless
// add() is given an explicit offset delta (compaction keeps original offsets).
class BatchBuilder {
 public:
  explicit BatchBuilder(uint64_t base_offset = 0);
  // Before the first add(): the batch carries a delete horizon
  // (kBatchDeleteHorizonFlag; first_timestamp = horizon_us). The cleaner's.
  void set_delete_horizon(int64_t horizon_us);
  void add(int64_t timestamp_us, const std::optional<std::string>& key,
           const std::optional<std::string>& value, const std::vector<RecordHeader>& headers);
  void add(const Record& r) { add_with_offset(r); }
  void add_with_offset(const Record& r);  // uses r.offset - base_offset as the delta
  size_t record_count() const { return count_; }
  size_t size_bytes() const { return buf_.size(); }
  // Finishes the batch (fills header and CRC) and returns its bytes.
  std::string finish();

 private:
  void add_impl(uint32_t offset_delta, int64_t ts, const std::optional<std::string>& key,
                const std::optional<std::string>& value, const std::vector<RecordHeader>& headers);
  uint64_t base_offset_;
  std::string buf_;
  uint32_t count_ = 0;
  uint32_t last_delta_ = 0;
  int64_t first_ts_ = 0;
  int64_t max_ts_ = 0;
  bool horizon_ = false;
};

// Fully decodes a whole batch (header, CRC, every record). Any truncation,
// trailing byte or inconsistent field is an error (kCorruptRecord).
Status decode_batch(const uint8_t* p, size_t n, BatchHeader* header, std::vector<Record>* records);

// Iterates the batches in a buffer of whole batches (as PartitionLog::read
// returns) and decodes records with offset >= min_offset into `out`.
Status decode_batches(std::string_view data, uint64_t min_offset, std::vector<Record>* out);

}  // namespace rustlog
