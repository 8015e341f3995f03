// The record batch codec (record_batch.h): random round trips, the byte
// layout of the header table, and rejection of every truncation, trailing
// byte, bit flip and inconsistent field.
#include "storage/record_batch.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "common/byte_order.h"
#include "common/crc32c.h"
#include "support/record_gen.h"

namespace rustlog {
namespace {

using test::build_batch;
using test::RecordGen;
using test::seed_trace;
using test::with_offsets;

const uint8_t* u8(const std::string& s) { return reinterpret_cast<const uint8_t*>(s.data()); }
uint8_t* u8(std::string& s) { return reinterpret_cast<uint8_t*>(s.data()); }

Status decode(const std::string& b, BatchHeader* h = nullptr, std::vector<Record>* recs = nullptr) {
  return decode_batch(u8(b), b.size(), h, recs);
}

// Recomputes the CRC after a test edits covered bytes on purpose.
void reseal(std::string& b) {
  put_u32(u8(b) + kBatchCrcOffset, compute_batch_crc(u8(b), b.size()));
}

void expect_round_trip(const std::vector<Record>& in, uint64_t base) {
  const std::string b = build_batch(in, base);
  BatchHeader h;
  std::vector<Record> out;
  ASSERT_TRUE(decode(b, &h, &out).is_ok()) << decode(b).to_string();
  EXPECT_EQ(h.base_offset, base);
  EXPECT_EQ(h.record_count, in.size());
  EXPECT_EQ(h.last_offset_delta, in.size() - 1);
  EXPECT_EQ(h.total_size(), b.size());
  EXPECT_EQ(h.magic, kBatchMagic);
  EXPECT_EQ(h.attributes, 0);
  EXPECT_EQ(h.first_timestamp, in.front().timestamp_us);
  int64_t max_ts = in.front().timestamp_us;
  for (const auto& r : in) max_ts = std::max(max_ts, r.timestamp_us);
  EXPECT_EQ(h.max_timestamp, max_ts);
  EXPECT_EQ(out, with_offsets(in, base));
}

TEST(RecordBatchTest, RandomRoundTrips) {
  for (uint64_t seed = 1; seed <= 400; ++seed) {
    SCOPED_TRACE(seed_trace(seed));
    test::GenOptions opt;
    opt.max_records = 50;
    opt.max_headers = 4;
    opt.max_value = 600;
    opt.null_key_pct = 25;
    opt.empty_key_pct = 25;
    opt.null_value_pct = 25;
    opt.empty_value_pct = 25;
    opt.ts_jitter_us = (seed % 3 == 0) ? 0 : 1'000'000'000'000;  // non-monotonic, some < 0
    RecordGen g(seed, opt);
    const int64_t ts_base = (seed % 5 == 0) ? -5'000'000 : test::kBaseTimestampUs;
    const uint64_t base = (seed % 4 == 0) ? 0 : g.uniform(0, uint64_t{1} << 50);
    expect_round_trip(g.records(ts_base), base);
  }
}

TEST(RecordBatchTest, NullAndEmptyKeysAndValuesStayDistinct) {
  std::vector<Record> in(4);
  in[0].key = std::nullopt;
  in[0].value = std::nullopt;  // tombstone without key
  in[1].key = std::string();
  in[1].value = std::string();
  in[2].key = std::nullopt;
  in[2].value = std::string();
  in[3].key = std::string();
  in[3].value = std::nullopt;
  in[3].headers = {{"", ""}, {"h", std::string("\0\xff", 2)}};
  for (size_t i = 0; i < in.size(); ++i) in[i].timestamp_us = 1000 + static_cast<int64_t>(i);
  expect_round_trip(in, 7);
  std::vector<Record> out;
  const std::string b = build_batch(in, 7);
  ASSERT_TRUE(decode(b, nullptr, &out).is_ok());
  EXPECT_FALSE(out[0].key.has_value());
  EXPECT_FALSE(out[0].value.has_value());
  ASSERT_TRUE(out[1].key.has_value());
  EXPECT_TRUE(out[1].key->empty());
  ASSERT_TRUE(out[1].value.has_value());
  EXPECT_TRUE(out[1].value->empty());
  EXPECT_FALSE(out[3].value.has_value());
  ASSERT_TRUE(out[3].key.has_value());
}

TEST(RecordBatchTest, LargeKeysValuesAndHeaders) {
  const uint64_t seed = 21;
  SCOPED_TRACE(seed_trace(seed));
  RecordGen g(seed);
  std::vector<Record> in(3);
  in[0].key = g.bytes(64 * 1024);
  in[0].value = g.bytes(1 << 20);
  in[1].value = g.bytes(3 * 1000 * 1000 + 7);
  in[1].headers = {{g.bytes(300), g.bytes(200 * 1024)}};
  in[2].key = g.bytes(1);
  in[2].value = std::string();
  for (auto& r : in) r.timestamp_us = test::kBaseTimestampUs;
  expect_round_trip(in, 123456);
}

TEST(RecordBatchTest, ExplicitOffsetsKeepGaps) {
  // Compaction rebuilds batches with the original offsets (add_with_offset).
  std::vector<Record> in;
  for (uint64_t off : {100, 101, 105, 200, 70000}) {
    Record r;
    r.offset = off;
    r.timestamp_us = static_cast<int64_t>(off) * 10;
    r.key = "k" + std::to_string(off);
    r.value = "v";
    in.push_back(r);
  }
  BatchBuilder b(100);
  for (const auto& r : in) b.add_with_offset(r);
  EXPECT_EQ(b.record_count(), in.size());
  const std::string batch = b.finish();
  BatchHeader h;
  std::vector<Record> out;
  ASSERT_TRUE(decode(batch, &h, &out).is_ok());
  EXPECT_EQ(h.last_offset(), 70000u);
  EXPECT_EQ(h.next_offset(), 70001u);
  EXPECT_EQ(out, in);
}

TEST(RecordBatchTest, BuilderIsReusableAfterFinish) {
  RecordGen g(22);
  BatchBuilder b(10);
  const auto first = g.records(5000);
  for (const auto& r : first) b.add(r.timestamp_us, r.key, r.value, r.headers);
  const std::string one = b.finish();
  const auto second = g.records(-7);
  for (const auto& r : second) b.add(r.timestamp_us, r.key, r.value, r.headers);
  const std::string two = b.finish();
  std::vector<Record> out;
  ASSERT_TRUE(decode(one, nullptr, &out).is_ok());
  EXPECT_EQ(out, with_offsets(first, 10));
  out.clear();
  ASSERT_TRUE(decode(two, nullptr, &out).is_ok());
  EXPECT_EQ(out, with_offsets(second, 10));
}

TEST(RecordBatchTest, HeaderLayoutMatchesTheTable) {
  std::vector<Record> in(3);
  in[0].timestamp_us = 5000;
  in[1].timestamp_us = 9000;
  in[2].timestamp_us = 4000;
  in[0].value = "abc";
  const std::string b = build_batch(in, 0x0102030405060708ull);
  const uint8_t* p = u8(b);
  EXPECT_EQ(get_u64(p + 0), 0x0102030405060708ull);  // big-endian base offset
  EXPECT_EQ(p[0], 0x01);
  EXPECT_EQ(get_u32(p + kBatchLengthOffset), b.size() - kBatchLogOverhead);
  EXPECT_EQ(p[12], kBatchMagic);
  EXPECT_EQ(get_u32(p + kBatchCrcOffset), compute_batch_crc(p, b.size()));
  EXPECT_EQ(get_u16(p + 17), 0);      // attributes: no compression
  EXPECT_EQ(get_u32(p + 19), 2u);     // last_offset_delta
  EXPECT_EQ(get_u64(p + 23), 5000u);  // first_timestamp
  EXPECT_EQ(get_u64(p + 31), 9000u);  // max_timestamp
  EXPECT_EQ(get_u32(p + 39), 3u);     // record_count
  EXPECT_GT(b.size(), kBatchHeaderSize);
}

TEST(RecordBatchTest, AssigningTheBaseOffsetReseals) {
  RecordGen g(23);
  const auto recs = g.records(100);
  std::string b = build_batch(recs, 0);
  std::string moved = b;
  put_u64(u8(moved), 987654321);  // a bare rewrite no longer passes the CRC
  EXPECT_FALSE(decode(moved).is_ok());
  assign_base_offset(u8(b), b.size(), 987654321);
  EXPECT_EQ(b, build_batch(with_offsets(recs, 987654321), 987654321));
  std::vector<Record> out;
  ASSERT_TRUE(decode(b, nullptr, &out).is_ok());
  EXPECT_EQ(out, with_offsets(recs, 987654321));
}

TEST(RecordBatchTest, EveryTruncationIsRejected) {
  for (uint64_t seed = 30; seed < 40; ++seed) {
    SCOPED_TRACE(seed_trace(seed));
    test::GenOptions opt;
    opt.max_records = (seed % 2) ? 1 : 12;
    opt.max_value = 100;
    RecordGen g(seed, opt);
    const std::string b = build_batch(g.records(test::kBaseTimestampUs), g.uniform(0, 1000));
    for (size_t n = 0; n < b.size(); ++n) {
      const Status st = decode_batch(u8(b), n, nullptr, nullptr);
      ASSERT_FALSE(st.is_ok()) << "prefix of " << n << "/" << b.size() << " bytes accepted";
      EXPECT_EQ(st.code(), ErrorCode::kCorruptRecord);
      BatchHeader h;
      EXPECT_NE(parse_batch_header(u8(b), n, &h), BatchError::kOk) << n;
    }
    EXPECT_TRUE(decode(b).is_ok());
  }
}

TEST(RecordBatchTest, TrailingBytesAreRejected) {
  RecordGen g(41);
  const std::string b = build_batch(g.records(1), 0);
  for (size_t extra = 1; extra <= 24; ++extra) {
    const std::string longer = b + g.bytes(extra);
    const Status st = decode(longer);
    ASSERT_FALSE(st.is_ok()) << extra;
    EXPECT_EQ(st.code(), ErrorCode::kCorruptRecord);
    EXPECT_NE(st.message().find("trailing"), std::string::npos) << st.message();
  }
  EXPECT_FALSE(decode(b + std::string(1, '\0')).is_ok());
  EXPECT_FALSE(decode(b + b).is_ok());  // two batches are not one
}

TEST(RecordBatchTest, EveryBitFlipIsRejected) {
  // The CRC covers every byte but itself (base offset included); the CRC
  // field is checked against all of them.
  for (uint64_t seed = 50; seed < 53; ++seed) {
    SCOPED_TRACE(seed_trace(seed));
    RecordGen g(seed);
    std::string b = build_batch(g.records(test::kBaseTimestampUs), 42);
    for (size_t i = 0; i < b.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        b[i] = static_cast<char>(b[i] ^ (1 << bit));
        const Status st = decode(b);
        ASSERT_FALSE(st.is_ok()) << "flip of byte " << i << " bit " << bit << " accepted";
        EXPECT_EQ(st.code(), ErrorCode::kCorruptRecord);
        b[i] = static_cast<char>(b[i] ^ (1 << bit));
      }
    }
    ASSERT_TRUE(decode(b).is_ok());
  }
}

TEST(RecordBatchTest, CorruptionMessageNamesTheOffsetRange) {
  RecordGen g(54);
  std::vector<Record> recs(5);
  for (auto& r : recs) r = g.record(1);
  std::string b = build_batch(recs, 1000);
  b[b.size() - 1] ^= 0x10;
  const Status st = decode(b);
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("1000..1004"), std::string::npos) << st.message();
}

TEST(RecordBatchTest, InconsistentFieldsWithAValidCrcAreRejected) {
  std::vector<Record> in(3);
  for (size_t i = 0; i < in.size(); ++i) {
    in[i].timestamp_us = 100 + static_cast<int64_t>(i);
    in[i].key = "key" + std::to_string(i);
    in[i].value = "value";
  }
  const std::string good = build_batch(in, 0);
  ASSERT_TRUE(decode(good).is_ok());
  struct Edit {
    const char* what;
    void (*apply)(std::string&);
  };
  const Edit edits[] = {
      {"max_timestamp too large", [](std::string& b) { put_u64(u8(b) + 31, 103); }},
      {"max_timestamp too small", [](std::string& b) { put_u64(u8(b) + 31, 101); }},
      {"first_timestamp shifted", [](std::string& b) { put_u64(u8(b) + 23, 99); }},
      {"last_offset_delta too large", [](std::string& b) { put_u32(u8(b) + 19, 3); }},
      {"record_count too small", [](std::string& b) { put_u32(u8(b) + 39, 2); }},
      {"record_count too large", [](std::string& b) { put_u32(u8(b) + 39, 4); }},
      {"record_count zero", [](std::string& b) { put_u32(u8(b) + 39, 0); }},
      {"compression attribute", [](std::string& b) { put_u16(u8(b) + 17, 1); }},
      {"record attribute", [](std::string& b) { b[kBatchHeaderSize + 1] = 1; }},
      {"record length",
       [](std::string& b) { b[kBatchHeaderSize] = static_cast<char>(b[kBatchHeaderSize] + 1); }},
      {"key length", [](std::string& b) { b[kBatchHeaderSize + 4] = static_cast<char>(0x7e); }},
      {"second offset delta repeated",
       [](std::string& b) {
         // record 0 body: len | attr | ts_delta(0) | off_delta(0) | ...
         const size_t rec0 = kBatchHeaderSize + 1 + static_cast<uint8_t>(b[kBatchHeaderSize]);
         b[rec0 + 3] = 0;  // offset delta of record 1: 1 -> 0
       }},
  };
  for (const auto& e : edits) {
    SCOPED_TRACE(e.what);
    std::string b = good;
    e.apply(b);
    reseal(b);
    const Status st = decode(b);
    ASSERT_FALSE(st.is_ok());
    EXPECT_EQ(st.code(), ErrorCode::kCorruptRecord);
  }
  std::string bad_magic = good;
  bad_magic[12] = 2;
  BatchHeader h;
  EXPECT_EQ(parse_batch_header(u8(bad_magic), bad_magic.size(), &h), BatchError::kBadMagic);
  std::string short_len = good;
  put_u32(u8(short_len) + kBatchLengthOffset, 10);
  EXPECT_EQ(parse_batch_header(u8(short_len), short_len.size(), &h), BatchError::kBadLength);
  std::string huge_len = good;
  put_u32(u8(huge_len) + kBatchLengthOffset, kMaxBatchBytes + 1);
  EXPECT_EQ(parse_batch_header(u8(huge_len), huge_len.size(), &h), BatchError::kBadLength);
  std::string overflow = good;
  put_u64(u8(overflow), UINT64_MAX - 1);
  EXPECT_EQ(parse_batch_header(u8(overflow), overflow.size(), &h), BatchError::kBadHeader);
}

TEST(RecordBatchTest, DecodeBatchesFiltersAndRejectsPartialBatches) {
  RecordGen g(60);
  std::string buf;
  std::vector<Record> all;
  uint64_t base = 10;
  for (int i = 0; i < 5; ++i) {
    auto recs = g.records(test::kBaseTimestampUs);
    buf += build_batch(recs, base);
    for (auto& r : with_offsets(recs, base)) all.push_back(r);
    base += recs.size();
  }
  for (uint64_t min = 0; min <= base; ++min) {
    std::vector<Record> out;
    ASSERT_TRUE(decode_batches(buf, min, &out).is_ok());
    std::vector<Record> want;
    for (const auto& r : all)
      if (r.offset >= min) want.push_back(r);
    EXPECT_EQ(out, want) << min;
  }
  std::vector<Record> out;
  EXPECT_EQ(decode_batches(buf.substr(0, buf.size() - 1), 0, &out).code(),
            ErrorCode::kCorruptRecord);
  out.clear();
  EXPECT_TRUE(decode_batches("", 0, &out).is_ok());
  EXPECT_TRUE(out.empty());
}

TEST(RecordBatchTest, ExtremeTimestampsRoundTrip) {
  // Producers choose timestamps: the deltas between any two must encode.
  std::vector<Record> in(5);
  const int64_t ts[] = {INT64_MAX, INT64_MIN, 0, -1, INT64_MIN + 1};
  for (size_t i = 0; i < in.size(); ++i) in[i].timestamp_us = ts[i];
  expect_round_trip(in, 0);
  std::reverse(in.begin(), in.end());
  expect_round_trip(in, 0);
}

TEST(RecordBatchTest, HostileFieldsWithAValidCrcNeverCrash) {
  // Batches come from clients: any bytes with a matching CRC must be either
  // accepted or rejected with kCorruptRecord (ASan/UBSan builds check for
  // overflows and out-of-bounds reads).
  std::vector<Record> in(2);
  in[0].timestamp_us = 0;
  in[1].timestamp_us = 1;
  in[0].value = "v";
  std::string b = build_batch(in, 0);
  put_u64(u8(b) + 23, static_cast<uint64_t>(INT64_MAX));  // first_timestamp
  put_u64(u8(b) + 31, static_cast<uint64_t>(INT64_MAX));
  reseal(b);
  (void)decode(b);  // record 1: INT64_MAX + 1
  put_u64(u8(b) + 23, static_cast<uint64_t>(INT64_MIN));
  put_u64(u8(b) + 31, static_cast<uint64_t>(INT64_MIN));
  reseal(b);
  (void)decode(b);

  const uint64_t seed = 70;
  SCOPED_TRACE(seed_trace(seed));
  test::GenOptions opt;
  opt.max_records = 6;
  opt.max_value = 40;
  RecordGen g(seed, opt);
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::string m = build_batch(g.records(g.uniform_i(-1000, 1000)), g.uniform(0, 1000));
    const int edits = static_cast<int>(g.uniform(1, 4));
    for (int k = 0; k < edits; ++k) {
      const size_t pos = g.uniform(kBatchCrcStart, m.size() - 1);
      m[pos] = g.chance(50) ? static_cast<char>(g.rng()()) : static_cast<char>(m[pos] ^ 0x80);
    }
    reseal(m);
    BatchHeader h;
    std::vector<Record> out;
    const Status r = decode_batch(u8(m), m.size(), &h, &out);
    if (r.is_ok()) {
      ++accepted;
      EXPECT_EQ(out.size(), h.record_count);
    } else {
      EXPECT_EQ(r.code(), ErrorCode::kCorruptRecord);
    }
  }
  std::printf("%d of 20000 mutated batches with a valid CRC decoded\n", accepted);
}

}  // namespace
}  // namespace rustlog
