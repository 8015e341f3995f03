// The record walker (storage/record_view.h), the one record loop: over random
// batches — offset gaps, null/empty keys and values, headers, and timestamps
// mixing INT64_MIN and INT64_MAX — it hands out exactly the records that were
// built, field by field, and the same ones decode_batch materialises; with
// any header byte changed it accepts exactly what decode_batch accepts.
#include "storage/record_view.h"

#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "common/byte_order.h"
#include "support/record_gen.h"

namespace rustlog {
namespace {

using test::RecordGen;
using test::seed_trace;

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

uint8_t* u8(std::string& s) { return reinterpret_cast<uint8_t*>(s.data()); }

// A timestamp from the edges of int64 as often as from the middle.
int64_t extreme_ts(RecordGen& g) {
  static constexpr int64_t kEdges[] = {kMin, kMin + 1, -1, 0, 1, kMax - 1, kMax};
  if (g.chance(60)) return kEdges[g.uniform(0, std::size(kEdges) - 1)];
  return static_cast<int64_t>(g.rng()());
}

// Batches with gaps between them; `want` gets the records with the offsets
// the batches give them.
std::string make_batches(RecordGen& g, bool extreme, std::vector<Record>* want) {
  std::string data;
  uint64_t base = g.uniform(0, 1000);
  for (size_t i = 0, n = g.uniform(1, 5); i < n; ++i) {
    auto recs = g.records(test::kBaseTimestampUs + static_cast<int64_t>(i) * 1000);
    if (extreme)
      for (auto& r : recs) r.timestamp_us = extreme_ts(g);
    data += test::build_batch(recs, base);
    for (auto& r : test::with_offsets(recs, base)) want->push_back(std::move(r));
    base += recs.size() + g.uniform(0, 3);
  }
  return data;
}

void expect_same(const RecordView& v, const Record& r) {
  EXPECT_EQ(v.offset, r.offset);
  EXPECT_EQ(v.timestamp_us, r.timestamp_us);
  EXPECT_EQ(v.key().has_value(), r.key.has_value());
  if (r.key) {
    EXPECT_EQ(*v.key(), *r.key);
  }
  EXPECT_EQ(v.value().has_value(), r.value.has_value());
  if (r.value) {
    EXPECT_EQ(*v.value(), *r.value);
  }
  EXPECT_EQ(v.header_count, r.headers.size());
  EXPECT_EQ(to_record(v), r);  // headers byte for byte
}

// Walks `data` and returns what it saw; *st gets the walker's status.
std::vector<Record> walk(std::string_view data, bool check_crc, Status* st) {
  RecordWalker w(data, check_crc);
  RecordView v;
  std::vector<Record> out;
  while (w.next(&v)) out.push_back(to_record(v));
  *st = w.status();
  return out;
}

TEST(RecordWalkerTest, HandsOutTheBuiltRecordsAndMatchesDecodeBatches) {
  for (uint64_t seed = 1; seed <= 400; ++seed) {
    SCOPED_TRACE(seed_trace(seed));
    test::GenOptions opt;
    opt.ts_jitter_us = seed % 2 ? 500 : 0;
    RecordGen g(seed, opt);
    std::vector<Record> built;
    const std::string data = make_batches(g, /*extreme=*/seed % 3 == 0, &built);
    std::vector<Record> decoded;
    ASSERT_TRUE(decode_batches(data, 0, &decoded).is_ok());
    ASSERT_EQ(decoded, built);
    for (bool crc : {false, true}) {
      RecordWalker w(data, crc);
      RecordView v;
      size_t i = 0;
      while (w.next(&v)) {
        ASSERT_LT(i, built.size());
        expect_same(v, built[i++]);
      }
      EXPECT_TRUE(w.status().is_ok()) << w.status().to_string();
      EXPECT_EQ(i, built.size());
    }
  }
}

// {INT64_MAX, INT64_MIN} and its mirror: the deltas wrap through uint64 on
// both sides (UBSan, in the asan preset, fails this on signed overflow).
TEST(RecordWalkerTest, ExtremeTimestampMixesRoundTrip) {
  const std::vector<std::vector<int64_t>> cases = {
      {kMax, kMin}, {kMin, kMax}, {kMin, kMin}, {kMax, kMax}, {0, kMin, kMax, -1}, {kMax, 0, kMin}};
  for (const auto& ts : cases) {
    BatchBuilder b(7);
    for (int64_t t : ts) b.add(t, std::nullopt, std::string("v"), {});
    const std::string data = b.finish();
    std::vector<Record> decoded;
    BatchHeader h;
    ASSERT_TRUE(decode_batch(reinterpret_cast<const uint8_t*>(data.data()), data.size(), &h, &decoded)
                    .is_ok());
    Status st;
    const auto walked = walk(data, true, &st);
    ASSERT_TRUE(st.is_ok()) << st.to_string();
    ASSERT_EQ(walked.size(), ts.size());
    EXPECT_EQ(walked, decoded);
    int64_t max = kMin;
    for (size_t i = 0; i < ts.size(); ++i) {
      EXPECT_EQ(walked[i].timestamp_us, ts[i]) << i;
      max = std::max(max, ts[i]);
    }
    EXPECT_EQ(h.first_timestamp, ts[0]);
    EXPECT_EQ(h.max_timestamp, max);
  }
}

// Every byte of the header changed (CRC recomputed, so the change is not
// caught by it, except in the CRC field itself): the walker accepts exactly
// when decode_batch does, with the same records, and never reads outside.
TEST(RecordWalkerTest, AcceptsExactlyWhatDecodeBatchAcceptsForEveryHeaderByte) {
  for (uint64_t seed = 1; seed <= 20; ++seed) {
    SCOPED_TRACE(seed_trace(seed));
    RecordGen g(seed);
    auto recs = g.records(seed % 2 ? extreme_ts(g) : test::kBaseTimestampUs);
    if (seed % 2)
      for (auto& r : recs) r.timestamp_us = extreme_ts(g);
    const std::string good = test::build_batch(recs, g.uniform(0, 1u << 20));
    for (size_t at = 0; at < kBatchHeaderSize; ++at) {
      for (uint8_t x : {uint8_t{0x01}, uint8_t{0x80}, uint8_t{0xff}}) {
        for (bool reseal : {false, true}) {
          std::string b = good;
          b[at] = static_cast<char>(b[at] ^ x);
          if (reseal && (at < kBatchCrcOffset || at >= kBatchCrcStart))
            put_u32(u8(b) + kBatchCrcOffset, compute_batch_crc(u8(b), b.size()));
          std::vector<Record> decoded;
          const Status want = decode_batch(u8(b), b.size(), nullptr, &decoded);
          Status st;
          const std::string copy = b;  // exact size: ASan sees any overread
          const auto walked = walk(copy, true, &st);
          EXPECT_EQ(st.is_ok(), want.is_ok()) << "byte " << at << " ^" << int{x} << ": "
                                              << st.to_string() << " vs " << want.to_string();
          if (st.is_ok() && want.is_ok()) {
            EXPECT_EQ(walked, decoded) << "byte " << at;
          }
          if (!want.is_ok()) {
            EXPECT_EQ(want.code(), ErrorCode::kCorruptRecord);
          }
        }
      }
    }
  }
}

}  // namespace
}  // namespace rustlog
