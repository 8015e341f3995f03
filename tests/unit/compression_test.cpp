// The batch codecs (common/compression.h): round trips at several levels,
// the bound on decompression (a zip bomb is refused, a block of exactly the
// bound is not), and blocks that are no whole frame of their codec.
#include "common/compression.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <random>
#include <string>

namespace rustlog {
namespace {

std::string text(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  static const char* kWords[] = {"GET", "POST", "/api/v1/orders", "200", "404", "Mozilla/5.0", "10.0.0.7", "-"};
  std::string s;
  while (s.size() < n) s += std::string(kWords[rng() % 8]) + (rng() % 5 ? " " : "\n");
  s.resize(n);
  return s;
}

TEST(CompressionTest, EveryCodecRoundTripsAtItsLevels) {
  const std::vector<Compression> codecs = {{Codec::kNone, 0}, {Codec::kLz4, 0}, {Codec::kLz4, 9},
                                           {Codec::kZstd, 0}, {Codec::kZstd, 1}, {Codec::kZstd, 19},
                                           {Codec::kZstd, -5}};
  for (const Compression& c : codecs) {
    for (size_t n : {size_t{0}, size_t{1}, size_t{100}, size_t{70000}, size_t{1u << 20}}) {
      SCOPED_TRACE(compression_to_string(c) + " " + std::to_string(n));
      const std::string in = text(n, n + 1);
      std::string block = "prefix";
      ASSERT_TRUE(compress_block(c, in, &block).is_ok());
      ASSERT_EQ(block.substr(0, 6), "prefix");  // appended
      if (c.codec != Codec::kNone && n >= 70000) {
        EXPECT_LT(block.size(), n / 2);
      }
      std::string out = "stale";
      Status st = decompress_block(c.codec, std::string_view(block).substr(6), 4u << 20, &out);
      ASSERT_TRUE(st.is_ok()) << st.to_string();
      EXPECT_EQ(out, in);
    }
  }
}

TEST(CompressionTest, AZipBombIsRefusedAtTheBoundAndExactlyTheBoundDecodes) {
  const std::string zeros(8u << 20, '\0');
  for (Codec codec : {Codec::kLz4, Codec::kZstd}) {
    SCOPED_TRACE(codec_name(codec));
    std::string block;
    ASSERT_TRUE(compress_block({codec, 0}, zeros, &block).is_ok());
    EXPECT_LT(block.size(), 64u * 1024);  // a few KiB that grow 8 MiB
    std::string out;
    Status st = decompress_block(codec, block, 1u << 20, &out);
    EXPECT_EQ(st.code(), ErrorCode::kTooLarge);
    EXPECT_NE(st.message().find("more than 1048576 bytes"), std::string::npos) << st.message();
    EXPECT_NE(st.message().find("--max-decompressed-batch-bytes"), std::string::npos) << st.message();
    EXPECT_LE(out.capacity(), 2 * ((1u << 20) + 1));  // never grew past twice the bound
    EXPECT_TRUE(decompress_block(codec, block, zeros.size(), &out).is_ok());
    EXPECT_EQ(out.size(), zeros.size());
    EXPECT_EQ(decompress_block(codec, block, zeros.size() - 1, &out).code(), ErrorCode::kTooLarge);
  }
  // The same bound holds for a zstd frame that does not declare its size
  // (streaming compression, fed in two calls, leaves the content size out).
  ZSTD_CCtx* z = ZSTD_createCCtx();
  std::string streamed(ZSTD_compressBound(zeros.size()), '\0');
  ZSTD_outBuffer ob{streamed.data(), streamed.size(), 0};
  ZSTD_inBuffer first{zeros.data(), zeros.size() / 2, 0};
  ASSERT_FALSE(ZSTD_isError(ZSTD_compressStream2(z, &ob, &first, ZSTD_e_continue)));
  ZSTD_inBuffer second{zeros.data() + zeros.size() / 2, zeros.size() / 2, 0};
  ASSERT_EQ(ZSTD_compressStream2(z, &ob, &second, ZSTD_e_end), 0u);
  ZSTD_freeCCtx(z);
  streamed.resize(ob.pos);
  ASSERT_EQ(ZSTD_getFrameContentSize(streamed.data(), streamed.size()), ZSTD_CONTENTSIZE_UNKNOWN);
  std::string out;
  EXPECT_EQ(decompress_block(Codec::kZstd, streamed, 1u << 20, &out).code(), ErrorCode::kTooLarge);
  EXPECT_LE(out.capacity(), 2 * ((1u << 20) + 1));
  ASSERT_TRUE(decompress_block(Codec::kZstd, streamed, zeros.size(), &out).is_ok());
  EXPECT_EQ(out, zeros);
  std::string none_block;
  EXPECT_EQ(decompress_block(Codec::kNone, zeros, 100, &none_block).code(), ErrorCode::kTooLarge);
}

TEST(CompressionTest, BlocksThatAreNoWholeFrameAreCorrupt) {
  const std::string in = text(50000, 7);
  for (Codec codec : {Codec::kLz4, Codec::kZstd}) {
    SCOPED_TRACE(codec_name(codec));
    std::string block;
    ASSERT_TRUE(compress_block({codec, 0}, in, &block).is_ok());
    std::string out;
    // Cut anywhere: the frame ends early.
    for (size_t cut : {size_t{0}, size_t{1}, size_t{4}, block.size() / 2, block.size() - 1}) {
      Status st = decompress_block(codec, std::string_view(block).substr(0, cut), 1u << 20, &out);
      EXPECT_EQ(st.code(), ErrorCode::kCorruptRecord) << cut;
      EXPECT_NE(st.message().find(std::string(codec_name(codec)) + " block: "), std::string::npos) << st.message();
    }
    // A byte after the frame.
    EXPECT_EQ(decompress_block(codec, block + "x", 1u << 20, &out).code(), ErrorCode::kCorruptRecord);
    // Plain text is no frame.
    EXPECT_EQ(decompress_block(codec, in, 1u << 20, &out).code(), ErrorCode::kCorruptRecord);
  }
}

TEST(CompressionTest, ParseAcceptsCodecsAndLevelsAndNamesTheRulesOtherwise) {
  EXPECT_EQ(*parse_compression("none"), (Compression{Codec::kNone, 0}));
  EXPECT_EQ(*parse_compression("lz4"), (Compression{Codec::kLz4, 0}));
  EXPECT_EQ(*parse_compression("lz4:12"), (Compression{Codec::kLz4, 12}));
  EXPECT_EQ(*parse_compression("zstd"), (Compression{Codec::kZstd, 0}));
  EXPECT_EQ(*parse_compression("zstd:-7"), (Compression{Codec::kZstd, -7}));
  EXPECT_EQ(*parse_compression("zstd:22"), (Compression{Codec::kZstd, 22}));
  for (const char* bad : {"gzip", "", "zstd:", "zstd:23", "zstd:-8", "lz4:13", "lz4:-1", "none:1", "zstd:3x", "ZSTD"}) {
    auto r = parse_compression(bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.status().code(), ErrorCode::kInvalidRequest);
    EXPECT_NE(r.status().message().find("zstd"), std::string::npos) << r.status().message();
  }
  EXPECT_EQ(compression_to_string({Codec::kZstd, 9}), "zstd:9");
  EXPECT_EQ(compression_to_string({Codec::kLz4, 0}), "lz4");
  EXPECT_EQ(codec_from_bits(2), Codec::kZstd);
  EXPECT_FALSE(codec_from_bits(3).has_value());
}

}  // namespace
}  // namespace rustlog
