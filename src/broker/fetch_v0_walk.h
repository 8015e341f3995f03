#pragma once
// The v0 Fetch between storage and protocol: the records of stored batches
// (storage's RecordWalker) handed to the v0 FetchResponse encoder (protocol's
// FetchV0Encoder). Neither byte layout is known here.
#include <string>
#include <string_view>

#include "common/status.h"
#include "protocol/fetch_v0.h"
#include "storage/record_view.h"

namespace rustlog {

// Adds the records of `batches` (whole batches, following those added
// before) at or after the encoder's start offset, until max_bytes stops the
// answer. kCorruptRecord for a malformed batch; the records added before it
// stay. `check_crc` re-verifies each batch's CRC (not needed for bytes that
// PartitionLog::read just verified). Compressed batches are decompressed
// (to at most max_decompressed bytes each): a v0 answer carries plain values.
// `pin` (may be empty) keeps `batches` valid after the call: values stored
// plain in them may then be spliced into the answer (the encoder's
// splice_into()).
inline Status add_fetch_v0_records(protocol::FetchV0Encoder& enc, std::string_view batches, bool check_crc,
                                   std::string& out, size_t max_decompressed = kDefaultMaxDecompressedBatchBytes,
                                   const BytesPin& pin = {}) {
  if (!pin) enc.reserve(out, batches.size());
  RecordWalker w(batches, check_crc, max_decompressed);
  RecordView r;
  static const BytesPin kUnpinned;
  while (!enc.full() && w.next(&r)) {
    if (r.offset < enc.start_offset()) continue;
    const std::string_view value = r.value_or_empty();
    const bool in_batches =
        value.data() >= batches.data() && value.data() + value.size() <= batches.data() + batches.size();
    if (!enc.add(r.offset, value, out, in_batches ? pin : kUnpinned)) break;
  }
  return w.status();
}

}  // namespace rustlog
