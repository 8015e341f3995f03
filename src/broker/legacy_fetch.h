#pragma once
// The legacy (v0) FetchResponse written straight from record-batch bytes:
// the values are copied once, from the batches read from the log into the
// response frame, with no Record objects or per-record strings in between.
// The bytes on the wire are exactly those of
//   decode_batches(batches, start_offset) -> FetchResponse -> encode_response.
#include <cstdint>
#include <string>
#include <string_view>

#include "storage/status.h"

namespace rustlog {

struct LegacyFetchInfo {
  uint32_t records = 0;
  uint64_t next_offset = 0;
};

// Appends one whole FetchResponse frame (length prefix included) to `out`:
// the records of `batches` at or after `start_offset`, in order, until the
// next value would take the answer's value bytes (4 + length per record)
// past `max_bytes` (at least one record when there is one); a tombstone is an
// empty value. next_offset = offset after the last record returned, else
// `start_offset`. On failure `out` is left as it was: kCorruptRecord for a
// malformed batch, 413 when the frame would exceed `max_frame_bytes`.
// `check_crc` re-verifies each batch's CRC (not needed for bytes that
// PartitionLog::read just verified).
Status append_legacy_fetch_response(std::string_view batches, uint64_t start_offset, uint32_t max_bytes,
                                    uint32_t max_frame_bytes, bool check_crc, std::string& out,
                                    LegacyFetchInfo* info = nullptr);

}  // namespace rustlog
