// Compressed batches (docs/STORAGE.md, section 2, "Compressed batches"): the
// records section compressed as one block with a plain header and the CRC
// over the stored bytes. Round trips per codec through the builder, the
// decoder, the record walker and a partition log (reopened: recovery and
// the scanner need no decompression); a flipped bit is a CRC error; a block
// with a valid CRC that decompresses to garbage, or to more than the bound,
// is refused with a clear error; a producer's batch is checked by the rules
// of produced_batch.h.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "common/batch_builder.h"
#include "common/byte_order.h"
#include "storage/batch_scanner.h"
#include "storage/produced_batch.h"
#include "storage/record_batch.h"
#include "storage/record_view.h"
#include "support/log_helpers.h"
#include "support/record_gen.h"
#include "support/temp_dir.h"

namespace rustlog {
namespace {

const uint8_t* u8(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }
uint8_t* u8(std::string& s) { return reinterpret_cast<uint8_t*>(s.data()); }

const std::vector<Compression> kCodecs = {{Codec::kLz4, 0}, {Codec::kLz4, 9}, {Codec::kZstd, 0}, {Codec::kZstd, 19}};

// Log lines: compressible, as a producer's batch usually is.
std::vector<Record> log_lines(size_t n, uint64_t seed) {
  test::RecordGen g(seed);
  std::vector<Record> out;
  for (size_t i = 0; i < n; ++i) {
    Record r;
    r.timestamp_us = test::kBaseTimestampUs + static_cast<int64_t>(g.uniform(0, 5000));
    if (g.chance(70)) r.key = "user-" + std::to_string(g.uniform(0, 50));
    if (!g.chance(5))
      r.value = "10.0.0." + std::to_string(g.uniform(1, 254)) + " - - \"GET /api/v1/orders/" +
                std::to_string(g.uniform(0, 99999)) + " HTTP/1.1\" 200 " + std::to_string(g.uniform(100, 9000)) +
                " \"Mozilla/5.0 (X11; Linux x86_64)\"";
    if (g.chance(30)) r.headers.push_back({"trace", std::to_string(g.uniform(0, 1u << 30))});
    out.push_back(std::move(r));
  }
  return out;
}

std::string build(const std::vector<Record>& recs, uint64_t base, const Compression& c) {
  BatchBuilder b(base);
  for (const auto& r : recs) b.add(r.timestamp_us, r.key, r.value, r.headers);
  return b.finish(c);
}

// A batch whose records section is `block` as stored, flagged with `codec`,
// header and CRC valid: what a buggy or hostile producer could send.
std::string forged(uint32_t record_count, Codec codec, const std::string& block) {
  std::string b(kBatchHeaderSize, '\0');
  b += block;
  BatchHeader h;
  h.base_offset = 0;
  h.last_offset_delta = record_count - 1;
  h.first_timestamp = h.max_timestamp = test::kBaseTimestampUs;
  h.record_count = record_count;
  h.attributes = static_cast<uint16_t>(codec);
  encode_batch_header(u8(b), b.size(), h);
  return b;
}

std::string compressed(Codec codec, const std::string& plain) {
  std::string block;
  EXPECT_TRUE(compress_block({codec, 0}, plain, &block).is_ok());
  return block;
}

TEST(CompressedBatchTest, EveryCodecRoundTripsThroughTheDecoderAndTheWalker) {
  for (const Compression& c : kCodecs) {
    for (uint64_t seed = 1; seed <= 20; ++seed) {
      SCOPED_TRACE(compression_to_string(c) + " seed=" + std::to_string(seed));
      const auto recs = log_lines(1 + seed * 37, seed);
      const std::string plain = build(recs, 1000, {});
      const std::string z = build(recs, 1000, c);
      BatchHeader h;
      ASSERT_EQ(parse_batch_header(u8(z), z.size(), &h), BatchError::kOk);
      EXPECT_EQ(h.attributes & kBatchCompressionMask, static_cast<uint16_t>(c.codec));
      EXPECT_LT(z.size(), plain.size() / 2);
      // Header fields are those of the plain batch: offsets and timestamps
      // are read without decompressing.
      BatchHeader hp;
      ASSERT_EQ(parse_batch_header(u8(plain), plain.size(), &hp), BatchError::kOk);
      EXPECT_EQ(h.record_count, hp.record_count);
      EXPECT_EQ(h.last_offset_delta, hp.last_offset_delta);
      EXPECT_EQ(h.first_timestamp, hp.first_timestamp);
      EXPECT_EQ(h.max_timestamp, hp.max_timestamp);
      EXPECT_TRUE(batch_crc_ok(u8(z), h));
      std::vector<Record> a, b;
      ASSERT_TRUE(decode_batch(u8(plain), plain.size(), nullptr, &a).is_ok());
      Status st = decode_batch(u8(z), z.size(), nullptr, &b);
      ASSERT_TRUE(st.is_ok()) << st.to_string();
      EXPECT_EQ(a, b);
      EXPECT_EQ(b, test::with_offsets(recs, 1000));
      // Two batches back to back, one of each kind, through one walk.
      const std::string both = z + plain;
      RecordWalker w(both, /*check_crc=*/true);
      RecordView v;
      size_t n = 0;
      while (w.next(&v)) {
        const Record& want = a[n % a.size()];
        EXPECT_EQ(to_record(v), want);
        ++n;
      }
      ASSERT_TRUE(w.status().is_ok()) << w.status().to_string();
      EXPECT_EQ(n, 2 * a.size());
    }
  }
}

TEST(CompressedBatchTest, ABlockThatDoesNotShrinkIsStoredPlain) {
  test::RecordGen g(3);
  std::vector<Record> recs = {g.record(1)};
  recs[0].value = g.bytes(40);  // random bytes: a frame would be larger
  const std::string z = build(recs, 0, {Codec::kZstd, 0});
  EXPECT_EQ(get_u16(u8(z) + kBatchAttributesOffset), 0);
  EXPECT_EQ(z, build(recs, 0, {}));
}

TEST(CompressedBatchTest, AFlippedBitInTheCompressedBytesIsACrcError) {
  for (const Compression& c : kCodecs) {
    SCOPED_TRACE(compression_to_string(c));
    const std::string z = build(log_lines(300, 9), 0, c);
    for (size_t pos = kBatchHeaderSize; pos < z.size(); pos += 7) {
      std::string bad = z;
      bad[pos] = static_cast<char>(bad[pos] ^ (1 << (pos % 8)));
      Status st = decode_batch(u8(bad), bad.size(), nullptr, nullptr);
      ASSERT_EQ(st.code(), ErrorCode::kCorruptRecord);
      EXPECT_NE(st.message().find("CRC mismatch"), std::string::npos) << st.message();
      // The scanner (recovery, reads) sees it without decompressing.
      MemoryBytes src(u8(bad), bad.size());
      BatchHeader h;
      const uint8_t* bytes = nullptr;
      Status io;
      EXPECT_EQ(BatchScanner::check_at(src, 0, 0, false, 0, true, &h, &bytes, &io), BatchError::kCrcMismatch);
    }
  }
}

TEST(CompressedBatchTest, AValidCrcOverGarbageIsRejectedNeverServedAsRecords) {
  for (Codec codec : {Codec::kLz4, Codec::kZstd}) {
    SCOPED_TRACE(codec_name(codec));
    struct Case {
      const char* what;
      std::string batch;
      const char* message;
    };
    const std::string records = build(log_lines(5, 1), 0, {}).substr(kBatchHeaderSize);
    const std::vector<Case> cases = {
        // Decompresses fine, to bytes that are no records.
        {"garbage records", forged(3, codec, compressed(codec, std::string(200, 'x'))), "record"},
        // The right records, but fewer than the header counts.
        {"count too high", forged(6, codec, compressed(codec, records)), ""},
        // Not a frame of the codec at all.
        {"no frame", forged(1, codec, std::string(64, '\x5a')), " block: "},
        // The frame cut short.
        {"cut frame", forged(5, codec, compressed(codec, records).substr(0, 20)), " block: "},
        // The right records followed by a stray byte inside the block.
        {"trailing byte", forged(5, codec, compressed(codec, records + "\x01")), "bytes after the last record"},
    };
    for (const Case& c : cases) {
      SCOPED_TRACE(c.what);
      std::vector<Record> recs;
      Status st = decode_batch(u8(c.batch), c.batch.size(), nullptr, &recs);
      ASSERT_EQ(st.code(), ErrorCode::kCorruptRecord);
      EXPECT_NE(st.message().find("batch at offsets 0.."), std::string::npos) << st.message();
      EXPECT_NE(st.message().find(c.message), std::string::npos) << st.message();
      // The walker hands out no record of a batch it cannot finish with a
      // whole decompression: the block is decoded before the first record.
      RecordWalker w(c.batch, /*check_crc=*/false);
      RecordView v;
      size_t served = 0;
      while (w.next(&v)) ++served;
      EXPECT_FALSE(w.status().is_ok());
      if (std::string(c.what) == "no frame" || std::string(c.what) == "cut frame") {
        EXPECT_EQ(served, 0u);
      }
      // And a producer sending it is told so.
      auto p = check_produced_batch(c.batch, {}, nullptr);
      ASSERT_FALSE(p);
      EXPECT_EQ(p.status().code(), ErrorCode::kInvalidRequest);
    }
  }
}

TEST(CompressedBatchTest, AZipBombIsRefusedWithTheBoundNamed) {
  for (Codec codec : {Codec::kLz4, Codec::kZstd}) {
    SCOPED_TRACE(codec_name(codec));
    const std::string bomb = forged(1, codec, compressed(codec, std::string(8u << 20, '\0')));
    EXPECT_LT(bomb.size(), 64u * 1024);
    Status st = decode_batch(u8(bomb), bomb.size(), nullptr, nullptr, 1u << 20);
    EXPECT_EQ(st.code(), ErrorCode::kTooLarge);
    EXPECT_NE(st.message().find("more than 1048576 bytes (--max-decompressed-batch-bytes): refused"),
              std::string::npos)
        << st.message();
    auto p = check_produced_batch(bomb, {.max_decompressed = 1u << 20}, nullptr);
    ASSERT_FALSE(p);
    EXPECT_EQ(p.status().code(), ErrorCode::kTooLarge);
  }
}

TEST(CompressedBatchTest, APartitionLogStoresCompressedBatchesAsSentAndReadsThemBack) {
  test::TempDir d;
  std::vector<Record> all;
  std::vector<std::string> stored;
  {
    auto log = test::open_log(d.path(), test::small_config(64 * 1024, 512), 0);
    for (int i = 0; i < 40; ++i) {
      const auto recs = log_lines(20 + i, 100 + i);
      const Compression c = i % 3 == 0 ? Compression{} : kCodecs[i % kCodecs.size()];
      std::string b = build(recs, 0, c);  // the log assigns the base offset
      const std::string sent = b;
      auto r = log->append(b, 1);
      ASSERT_TRUE(r) << r.status().to_string();
      // Only the base offset (and so the CRC) changed: the block is as sent.
      EXPECT_EQ(b.substr(kBatchHeaderSize), sent.substr(kBatchHeaderSize));
      stored.push_back(b);
      auto with = test::with_offsets(recs, r->base_offset);
      all.insert(all.end(), with.begin(), with.end());
    }
    ASSERT_TRUE(log->flush().is_ok());
  }
  // Reopened: recovery scans headers and CRCs alone, reads decompress.
  auto log = test::open_log(d.path(), test::small_config(64 * 1024, 512), 0);
  EXPECT_EQ(log->high_watermark(), all.size());
  std::vector<Record> got;
  std::string raw;
  for (uint64_t at = 0; at < log->high_watermark();) {
    auto r = log->read(at, 10000);
    ASSERT_TRUE(r) << r.status().to_string();
    raw += r->data;
    ASSERT_TRUE(decode_batches(r->data, at, &got).is_ok());
    at = r->next_offset;
  }
  EXPECT_EQ(got, all);
  std::string joined;
  for (const auto& s : stored) joined += s;
  EXPECT_EQ(raw, joined);
  // Lookups by time decode compressed batches too.
  auto t = log->offset_for_time(all[500].timestamp_us);
  ASSERT_TRUE(t);
  EXPECT_LE(*t, 500u);
}

TEST(CompressedBatchTest, AppendRefusesUnknownCodecs) {
  test::TempDir d;
  auto log = test::open_log(d.path(), test::small_config(), 0);
  for (uint16_t codec = 3; codec <= 7; ++codec) {
    std::string b = forged(1, Codec::kZstd, compressed(Codec::kZstd, build(log_lines(1, 1), 0, {}).substr(43)));
    put_u16(u8(b) + kBatchAttributesOffset, codec);
    put_u32(u8(b) + kBatchCrcOffset, compute_batch_crc(u8(b), b.size()));
    EXPECT_EQ(log->append(b, 0).status().code(), ErrorCode::kInvalidRequest) << codec;
    EXPECT_EQ(check_produced_batch(b, {}, nullptr).status().code(), ErrorCode::kInvalidRequest);
  }
  EXPECT_EQ(log->high_watermark(), 0u);
}

TEST(CompressedBatchTest, AProducedBatchFollowsTheTimestampAndKeyRules) {
  // All the producer's own timestamps: kept.
  const auto recs = log_lines(50, 4);
  const std::string own = build(recs, 0, {Codec::kZstd, 0});
  auto ok = check_produced_batch(own, {}, nullptr);
  ASSERT_TRUE(ok) << ok.status().to_string();
  EXPECT_FALSE(ok->broker_time);
  EXPECT_EQ(ok->codec, Codec::kZstd);
  // Broker time: every record -1 (deltas 0); placed with the append time.
  BatchBuilder bt(0);
  for (const auto& r : recs) bt.add(-1, r.key, r.value, r.headers);
  std::string broker = bt.finish({Codec::kLz4, 0});
  size_t seen = 0;
  auto bk = check_produced_batch(broker, {}, [&](const RecordView&) { ++seen; });
  ASSERT_TRUE(bk) << bk.status().to_string();
  EXPECT_EQ(seen, recs.size());
  EXPECT_TRUE(bk->broker_time);
  place_produced_batch(u8(broker), broker.size(), *bk, 777, 1'800'000'000'000'000);
  std::vector<Record> out;
  ASSERT_TRUE(decode_batch(u8(broker), broker.size(), nullptr, &out).is_ok());
  ASSERT_EQ(out.size(), recs.size());
  for (size_t i = 0; i < out.size(); ++i) {
    EXPECT_EQ(out[i].offset, 777 + i);
    EXPECT_EQ(out[i].timestamp_us, 1'800'000'000'000'000);
    EXPECT_EQ(out[i].value, recs[i].value);
  }
  // A negative timestamp of its own, or a mix of -1 and others: refused.
  BatchBuilder neg(0);
  neg.add(5, std::string("k"), std::string("v"), {});
  neg.add(-3, std::string("k"), std::string("v"), {});
  EXPECT_EQ(check_produced_batch(neg.finish(), {}, nullptr).status().code(), ErrorCode::kInvalidRequest);
  BatchBuilder mix(0);
  mix.add(-1, std::string("k"), std::string("v"), {});
  mix.add(10, std::string("k"), std::string("v"), {});
  EXPECT_EQ(check_produced_batch(mix.finish(), {}, nullptr).status().code(), ErrorCode::kInvalidRequest);
  // Keys required (a compacted topic).
  auto keys = check_produced_batch(own, {.keys_required = true}, nullptr);
  EXPECT_EQ(keys.status().code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(keys.status().message().find("cleanup.policy compact"), std::string::npos);
  // A delete horizon, a header-only batch, trailing bytes, a bad CRC.
  BatchBuilder hz(0);
  hz.set_delete_horizon(5);
  hz.add(1, std::string("k"), std::nullopt, {});
  EXPECT_EQ(check_produced_batch(hz.finish(), {}, nullptr).status().code(), ErrorCode::kInvalidRequest);
  EXPECT_EQ(check_produced_batch(encode_empty_batch(0, 0, 1, 1), {}, nullptr).status().code(),
            ErrorCode::kInvalidRequest);
  EXPECT_EQ(check_produced_batch(own + "x", {}, nullptr).status().code(), ErrorCode::kInvalidRequest);
  std::string flipped = own;
  flipped[60] ^= 1;
  auto crc = check_produced_batch(flipped, {}, nullptr);
  EXPECT_EQ(crc.status().code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(crc.status().message().find("CRC mismatch"), std::string::npos);
}

}  // namespace
}  // namespace rustlog
