#pragma once
// Batch compression codecs: the records section of a batch (everything after
// the 43-byte header) compressed as one block (docs/STORAGE.md, section 2,
// "Compressed batches"). The codec is the batch attributes' bits 0-2.
//
//   codec  bits  block
//   none   0     the records as they are
//   lz4    1     one LZ4 frame (lz4frame.h)
//   zstd   2     one Zstandard frame
//
// Decompression is bounded: a block that would grow past `max_bytes` is
// refused (kTooLarge, saying so) as soon as the output passes the bound (the
// buffer grows in steps, never past twice the bound), so a zip bomb costs
// no more than decompressing the bound's worth. No I/O.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace rustlog {

enum class Codec : uint8_t { kNone = 0, kLz4 = 1, kZstd = 2 };

// The bound on a decompressed records section unless configured
// (--max-decompressed-batch-bytes).
inline constexpr size_t kDefaultMaxDecompressedBatchBytes = 64u << 20;

// A codec with its level (lz4: 0 fast .. 12; zstd: -7 .. 22, 0 = its default 3).
struct Compression {
  Codec codec = Codec::kNone;
  int level = 0;
  bool operator==(const Compression&) const = default;
};

// "none", "lz4", "zstd".
const char* codec_name(Codec codec);
// The codec of attribute bits 0-2; nullopt for a value no codec has (3-7).
std::optional<Codec> codec_from_bits(uint16_t bits);
// "none" | "lz4" | "zstd" with an optional ":LEVEL" ("zstd:9"). 400 naming
// the accepted values otherwise.
Result<Compression> parse_compression(std::string_view text);
std::string compression_to_string(const Compression& c);

// Appends the block of `in` to `out`. kNone appends `in` as it is.
Status compress_block(const Compression& c, std::string_view in, std::string* out);

// Replaces `out` with the decompressed block. kCorruptRecord when the block
// is not one whole, valid frame of the codec (no byte after it); kTooLarge
// when it would decompress to more than max_bytes.
Status decompress_block(Codec codec, std::string_view in, size_t max_bytes, std::string* out);

}  // namespace rustlog
