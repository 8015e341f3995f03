#pragma once
// Fuzz targets for compressed batches, one per codec: the bytes a producer
// could send or a disk could hold under a valid CRC. The target sets the
// input batch's codec bits and recomputes its CRC, so every mutation of the
// block reaches the decompressor (bounded at 1 MiB) and the record walk.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/batch_builder.h"
#include "common/byte_order.h"
#include "fuzz/fuzz_check.h"
#include "storage/produced_batch.h"
#include "storage/record_batch.h"
#include "storage/record_view.h"

namespace rustlog::fuzz {

inline constexpr size_t kFuzzDecompressBound = 1u << 20;

// Input: one batch, its records section a block of `codec`. A batch that
// decodes has its header's record count, walks to the same records, is
// rebuilt with the same codec into a batch with the same records, and is a
// batch a producer may send whenever the produce checks accept it; any
// rejection is CorruptRecord, or TooLarge for a block past the bound (the
// produce check's: 400, or 413).
inline int fuzz_compressed_batch(Codec codec, const uint8_t* data, size_t size) {
  std::string b(reinterpret_cast<const char*>(data), size);
  auto* p = reinterpret_cast<uint8_t*>(b.data());
  if (b.size() >= kBatchHeaderSize) {
    put_u16(p + kBatchAttributesOffset, static_cast<uint16_t>(codec));
    put_u32(p + kBatchCrcOffset, compute_batch_crc(p, b.size()));
  }
  BatchHeader h;
  std::vector<Record> recs;
  const Status st = decode_batch(p, b.size(), &h, &recs, kFuzzDecompressBound);
  auto produced = check_produced_batch(b, {.max_decompressed = kFuzzDecompressBound}, nullptr);
  if (!st) {
    FUZZ_CHECK(st.code() == ErrorCode::kCorruptRecord || st.code() == ErrorCode::kTooLarge,
               "a compressed batch's rejection is neither CorruptRecord nor TooLarge");
    FUZZ_CHECK(!produced, "the produce check accepts a batch the decoder refuses");
    // Either may meet another of a batch's defects first (the produce check
    // reads the header's timestamp rules before it decompresses): each
    // refusal is a 400, or a 413 for a block past the bound.
    const ErrorCode pc = produced.status().code();
    FUZZ_CHECK(pc == ErrorCode::kInvalidRequest || pc == ErrorCode::kTooLarge,
               "the produce check refuses with neither 400 nor 413");
    return 0;
  }
  FUZZ_CHECK(recs.size() == h.record_count, "record count differs from the header");
  RecordWalker w(b, /*check_crc=*/false, kFuzzDecompressBound);
  RecordView v;
  size_t i = 0;
  while (w.next(&v)) {
    FUZZ_CHECK(i < recs.size() && to_record(v) == recs[i], "the walker and the decoder disagree");
    ++i;
  }
  FUZZ_CHECK(w.status().is_ok() && i == recs.size(), "the walker refuses a batch the decoder accepts");
  if (produced) FUZZ_CHECK(produced->codec == codec, "the produce check saw another codec");
  else FUZZ_CHECK(produced.status().code() == ErrorCode::kInvalidRequest, "a decodable batch refused as not 400");
  BatchBuilder again(h.base_offset);
  for (const auto& r : recs) again.add_with_offset(r);
  const std::string rebuilt = again.finish({codec, 0});
  std::vector<Record> recs2;
  FUZZ_CHECK(decode_batch(reinterpret_cast<const uint8_t*>(rebuilt.data()), rebuilt.size(), nullptr, &recs2,
                          kFuzzDecompressBound)
                 .is_ok(),
             "a rebuilt compressed batch does not decode");
  FUZZ_CHECK(recs2 == recs, "rebuilding a compressed batch changed its records");
  return 0;
}

inline int fuzz_batch_lz4(const uint8_t* data, size_t size) { return fuzz_compressed_batch(Codec::kLz4, data, size); }
inline int fuzz_batch_zstd(const uint8_t* data, size_t size) { return fuzz_compressed_batch(Codec::kZstd, data, size); }

}  // namespace rustlog::fuzz
