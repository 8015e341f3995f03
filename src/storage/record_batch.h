#pragma once
// The on-disk (and in-memory) record batch format — byte layout only, no I/O.
// Table in docs/STORAGE.md "Record batch". The header's layout and its one
// encoder (encode_batch_header) are in common/batch_header.h, shared with the
// v0 produce codec; this file reads and checks batches and builds them.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/batch_builder.h"
#include "common/batch_header.h"
#include "common/compression.h"
#include "common/record.h"
#include "common/status.h"

namespace rustlog {

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
  kBadRecords,        // CRC intact, but the records do not fill the batch as its header says
};
const char* batch_error_name(BatchError e);
// A torn write looks like this: the bytes simply stop early.
inline bool is_short(BatchError e) { return e == BatchError::kShortHeader || e == BatchError::kShortBatch; }

// Parses the fixed header from `n` available bytes (only the first
// kBatchHeaderSize are read). The fields are filled as far as they were
// read, so a caller can say why (the declared length, the magic byte).
BatchError parse_batch_header(const uint8_t* p, size_t n, BatchHeader* out);

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

// Fully decodes a whole batch (header, CRC, every record; a compressed
// records section decompressed, to at most max_decompressed bytes). Any
// truncation, trailing byte or inconsistent field is an error (kCorruptRecord).
Status decode_batch(const uint8_t* p, size_t n, BatchHeader* header, std::vector<Record>* records,
                    size_t max_decompressed = kDefaultMaxDecompressedBatchBytes);

// Iterates the batches in a buffer of whole batches (as PartitionLog::read
// returns) and decodes records with offset >= min_offset into `out`.
Status decode_batches(std::string_view data, uint64_t min_offset, std::vector<Record>* out,
                      size_t max_decompressed = kDefaultMaxDecompressedBatchBytes);

}  // namespace rustlog
