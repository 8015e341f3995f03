#pragma once
// A batch a producer built (ProduceBatch, docs/PROTOCOL.md), checked whole
// before it is appended: the broker did not write its records, so every byte
// is checked once here, bounded by the decompression limit, and reads trust
// it like any appended batch. Byte rules only, no I/O.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>

#include "common/status.h"
#include "storage/record_batch.h"
#include "storage/record_view.h"

namespace rustlog {

struct ProducedBatchRules {
  size_t max_decompressed = kDefaultMaxDecompressedBatchBytes;
  bool keys_required = false;  // a compacted topic: every record needs a key
};

struct ProducedBatch {
  BatchHeader header;
  Codec codec = Codec::kNone;
  // first_timestamp -1: the records carry no timestamp of their own and take
  // the broker's append time (stamp_append_time).
  bool broker_time = false;
};

// Checks that `batch` is exactly one whole batch with a valid header and
// CRC, attributes holding nothing but a known codec, at least one record,
// and records that decode (decompressed to at most rules.max_decompressed);
// that its timestamps are either all the producer's (>= 0) or, with
// first_timestamp -1, all "broker time" (-1, every delta 0); and that every
// record has a key when rules.keys_required. `each` sees every record.
// Errors: 400 (any rule, the CRC, records that do not decode: the bytes are
// the producer's), 413 (past the decompression bound), each naming what.
Result<ProducedBatch> check_produced_batch(std::string_view batch, const ProducedBatchRules& rules,
                                           const std::function<void(const RecordView&)>& each);

// Gives a checked batch the base offset the log assigns and, for a
// broker-time batch, `append_time_us` as first and max timestamp (every
// record then reads with that time), recomputing the CRC once.
void place_produced_batch(uint8_t* p, size_t n, const ProducedBatch& b, uint64_t base_offset,
                          int64_t append_time_us);

// Rewrites a whole, valid batch so its records section is stored with
// `compression` (decompressing it first, within max_decompressed, when it
// has another codec): same header fields but the codec bits, length and CRC,
// the same records. A block that would not shrink is stored plain. Errors
// as the record walk's (kCorruptRecord, kTooLarge).
Status recompress_batch(std::string* batch, const Compression& compression, size_t max_decompressed);

}  // namespace rustlog
