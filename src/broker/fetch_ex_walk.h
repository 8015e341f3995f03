#pragma once
// FetchEx between storage and protocol: the records of stored batches
// (storage's RecordWalker) handed to the FetchEx response encoder
// (protocol's FetchExEncoder). Neither byte layout is known here beyond the
// stored headers' uvarint lengths (the walker checked them against the
// record's bounds).
#include <string>
#include <string_view>

#include "common/status.h"
#include "common/varint.h"
#include "protocol/fetch_ex.h"
#include "storage/record_view.h"

namespace rustlog {

// Adds the records of `batches` (whole batches, following those added
// before) at or after `min_offset`. kCorruptRecord for a malformed batch.
// `check_crc` re-verifies each batch's CRC (not needed for bytes that
// PartitionLog::read just verified). Compressed batches are decompressed to
// at most max_decompressed bytes each. `pin` (may be empty) keeps `batches`
// valid after the call: values stored plain in them may then be spliced
// into the answer instead of copied (the encoder's splice_into()).
inline Status add_fetch_ex_records(protocol::FetchExEncoder& enc, std::string_view batches, uint64_t min_offset,
                                   bool check_crc, std::string& out,
                                   size_t max_decompressed = kDefaultMaxDecompressedBatchBytes,
                                   const BytesPin& pin = {}) {
  if (!pin) out.reserve(out.size() + batches.size() + 64);
  RecordWalker w(batches, check_crc, max_decompressed);
  RecordView r;
  static const BytesPin kUnpinned;
  while (w.next(&r)) {
    if (r.offset < min_offset) continue;
    // A decompressed value lives in the walker's buffer: only bytes inside
    // `batches` are pinned.
    const auto stored = r.value();
    const bool in_batches = stored && stored->data() >= batches.data() &&
                            stored->data() + stored->size() <= batches.data() + batches.size();
    enc.add(out, r.offset, r.timestamp_us, r.key(), stored, r.header_count, in_batches ? pin : kUnpinned);
    const auto* p = reinterpret_cast<const uint8_t*>(r.headers_data);
    const uint8_t* end = p + r.headers_len;
    for (uint64_t k = 0; k < r.header_count; ++k) {
      uint64_t nl = 0, vl = 0;
      (void)get_uvarint(&p, end, &nl);
      const std::string_view name(reinterpret_cast<const char*>(p), nl);
      p += nl;
      (void)get_uvarint(&p, end, &vl);
      const std::string_view value(reinterpret_cast<const char*>(p), vl);
      p += vl;
      enc.add_header(out, name, value);
    }
  }
  return w.status();
}

}  // namespace rustlog
