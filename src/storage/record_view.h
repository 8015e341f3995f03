#pragma once
// The one record loop: a zero-copy walk over the records of a buffer of
// whole record batches (as PartitionLog::read returns them). Each record is
// handed out as views into the buffer, nothing is allocated. It checks
// bounds, attributes, increasing offsets, the last offset delta and max
// timestamp of each batch, and the CRC when asked (callers whose bytes were
// just verified by the reader skip it: Segment reads check every CRC).
// decode_batch (record_batch.h) is this walk plus to_record().
//
// A compressed batch (docs/STORAGE.md, section 2) is decompressed into the
// walker's own buffer, to at most max_decompressed bytes (more is refused as
// kCorruptRecord naming the bound): its records' views point there and stay
// valid until the walk moves to the next batch; a plain batch's point into
// `batches`. A block that would decompress past the bound is kTooLarge.
//
//   RecordWalker w(data, /*check_crc=*/false);
//   RecordView r;
//   while (w.next(&r)) use(r.offset, r.value());
//   if (!w.status()) ... corrupt input (kCorruptRecord) ...
//
// A batch's records are handed out before the batch's trailing checks run
// (they run when the walker moves past its last record), so a caller that
// stops early never pays for the batches it did not look at.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/compression.h"
#include "common/record.h"
#include "common/status.h"
#include "storage/record_batch.h"

namespace rustlog {

struct RecordView {
  uint64_t offset = 0;
  int64_t timestamp_us = 0;
  const char* key_data = nullptr;
  int64_t key_len = -1;  // -1: null key
  const char* value_data = nullptr;
  int64_t value_len = -1;  // -1: null value (tombstone)
  const char* headers_data = nullptr;  // header_count x (uvarint len, name, uvarint len, value)
  size_t headers_len = 0;
  uint64_t header_count = 0;

  std::optional<std::string_view> key() const {
    if (key_len < 0) return std::nullopt;
    return std::string_view(key_data, static_cast<size_t>(key_len));
  }
  std::optional<std::string_view> value() const {
    if (value_len < 0) return std::nullopt;
    return std::string_view(value_data, static_cast<size_t>(value_len));
  }
  // The value's bytes, empty for a tombstone.
  std::string_view value_or_empty() const {
    return value_len < 0 ? std::string_view() : std::string_view(value_data, static_cast<size_t>(value_len));
  }
};

// The record as owned strings (key, value, headers).
Record to_record(const RecordView& v);

class RecordWalker {
 public:
  RecordWalker(std::string_view batches, bool check_crc,
               size_t max_decompressed = kDefaultMaxDecompressedBatchBytes);

  // The next record (in buffer order); false at the end of the buffer or on
  // corrupt input (then status() says what and where).
  bool next(RecordView* out);
  const Status& status() const { return status_; }

 private:
  bool start_batch();
  bool finish_batch();
  bool fail(const std::string& what, ErrorCode code = ErrorCode::kCorruptRecord);

  const uint8_t* p_;    // start of the current (or next) batch
  const uint8_t* end_;  // end of the buffer
  bool check_crc_;
  size_t max_decompressed_;
  std::string plain_;   // the current batch's records, decompressed
  bool in_batch_ = false;
  BatchHeader h_;
  const uint8_t* cur_ = nullptr;    // next record in the current batch
  const uint8_t* bend_ = nullptr;   // end of the current batch's records
  const uint8_t* next_batch_ = nullptr;  // where the next batch starts
  uint32_t index_ = 0;
  int64_t prev_delta_ = -1;
  int64_t max_ts_ = 0;
  Status status_;
};

}  // namespace rustlog
