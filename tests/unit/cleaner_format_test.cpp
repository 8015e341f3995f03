// The two batch-format additions compaction makes (docs/STORAGE.md, section
// 2): the header-only batch (record_count 0) that keeps a cleaned range's
// last offset, and the delete-horizon attribute bit (first_timestamp holds
// the horizon). Their bytes, round trips, and what stays rejected; and the
// cleaner's key map.
#include <gtest/gtest.h>

#include "storage/cleaner_key_map.h"
#include "storage/record_view.h"
#include "support/log_helpers.h"

namespace rustlog {
namespace {

std::string hex(const std::string& s) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) out += std::string{d[c >> 4], d[c & 15], ' '};
  return out;
}

TEST(BatchFormatTest, AnEmptyBatchIsTheHeaderAloneAndRoundTrips) {
  const std::string b = encode_empty_batch(42, 3, 1700000000000000, 1700000000000001);
  ASSERT_EQ(b.size(), kBatchHeaderSize);
  // base 42, length 31, magic 1, crc, attributes 0, last delta 3, timestamps, count 0
  EXPECT_EQ(hex(b.substr(0, 13)), "00 00 00 00 00 00 00 2a 00 00 00 1f 01 ");
  EXPECT_EQ(hex(b.substr(17)),
            "00 00 00 00 00 03 00 06 0a 24 18 1e 40 00 00 06 0a 24 18 1e 40 01 00 00 00 00 ");
  BatchHeader h;
  ASSERT_EQ(parse_batch_header(reinterpret_cast<const uint8_t*>(b.data()), b.size(), &h), BatchError::kOk);
  EXPECT_EQ(h.record_count, 0u);
  EXPECT_EQ(h.last_offset(), 45u);
  EXPECT_TRUE(batch_crc_ok(reinterpret_cast<const uint8_t*>(b.data()), h));
  std::vector<Record> recs;
  ASSERT_TRUE(decode_batch(reinterpret_cast<const uint8_t*>(b.data()), b.size(), &h, &recs).is_ok());
  EXPECT_TRUE(recs.empty());
  // Between two ordinary batches the walker hands out their records only.
  Record r;
  r.timestamp_us = 5;
  r.key = "k";
  r.value = "v";
  std::string buf = test::build_batch({r}, 41) + b + test::build_batch({r}, 46);
  RecordWalker w(buf, true);
  RecordView v;
  std::vector<uint64_t> offsets;
  while (w.next(&v)) offsets.push_back(v.offset);
  ASSERT_TRUE(w.status().is_ok()) << w.status().to_string();
  EXPECT_EQ(offsets, (std::vector<uint64_t>{41, 46}));
  // A record count of 0 with a body is still invalid.
  std::string bad = b + std::string(8, '\0');
  encode_batch_header(reinterpret_cast<uint8_t*>(bad.data()), bad.size(), h);
  EXPECT_EQ(parse_batch_header(reinterpret_cast<const uint8_t*>(bad.data()), bad.size(), &h), BatchError::kBadHeader);
}

TEST(BatchFormatTest, TheDeleteHorizonBitCarriesTheHorizonInFirstTimestamp) {
  BatchBuilder b(100);
  b.set_delete_horizon(1800000000000000);
  Record tomb;
  tomb.offset = 102;
  tomb.timestamp_us = 1700000000000000;  // older than the horizon: the delta is negative
  tomb.key = "gone";
  Record val;
  val.offset = 105;
  val.timestamp_us = 1700000000000007;
  val.key = "kept";
  val.value = "x";
  b.add_with_offset(tomb);
  b.add_with_offset(val);
  const std::string bytes = b.finish();
  BatchHeader h;
  std::vector<Record> recs;
  ASSERT_TRUE(decode_batch(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), &h, &recs).is_ok());
  EXPECT_EQ(h.attributes, kBatchDeleteHorizonFlag);
  EXPECT_EQ(hex(bytes.substr(kBatchAttributesOffset, 2)), "00 40 ");
  EXPECT_TRUE(h.has_delete_horizon());
  EXPECT_EQ(h.first_timestamp, 1800000000000000);
  EXPECT_EQ(h.max_timestamp, 1700000000000007);
  ASSERT_EQ(recs.size(), 2u);
  EXPECT_EQ(recs[0].offset, 102u);
  EXPECT_EQ(recs[0].timestamp_us, 1700000000000000);
  EXPECT_FALSE(recs[0].value.has_value());
  EXPECT_EQ(recs[1].offset, 105u);
  EXPECT_EQ(recs[1].timestamp_us, 1700000000000007);
  // The builder forgets the horizon after finish().
  b.add(1, std::string("k"), std::string("v"), {});
  const std::string plain = b.finish();
  ASSERT_EQ(parse_batch_header(reinterpret_cast<const uint8_t*>(plain.data()), plain.size(), &h), BatchError::kOk);
  EXPECT_EQ(h.attributes, 0);
  // Any other attribute bit is rejected (a compression codec, an unknown bit).
  for (uint16_t attr : {uint16_t{0x0001}, uint16_t{0x0004}, uint16_t{0x0080}, uint16_t{0x8000}}) {
    std::string x = bytes;
    ASSERT_EQ(parse_batch_header(reinterpret_cast<const uint8_t*>(x.data()), x.size(), &h), BatchError::kOk);
    h.attributes = attr;
    encode_batch_header(reinterpret_cast<uint8_t*>(x.data()), x.size(), h);
    EXPECT_FALSE(decode_batch(reinterpret_cast<const uint8_t*>(x.data()), x.size(), nullptr, nullptr).is_ok()) << attr;
  }
}

TEST(BatchFormatTest, AppendRefusesEmptyBatchesAndAttributeBits) {
  test::TempDir d;
  auto log = test::open_log(d.path(), test::small_config(), 0);
  std::string empty = encode_empty_batch(0, 0, 1, 1);
  EXPECT_EQ(log->append(empty, 0).status().code(), ErrorCode::kInvalidRequest);
  BatchBuilder b(0);
  b.set_delete_horizon(5);
  b.add(1, std::string("k"), std::nullopt, {});
  std::string h = b.finish();
  EXPECT_EQ(log->append(h, 0).status().code(), ErrorCode::kInvalidRequest);
  EXPECT_EQ(log->high_watermark(), 0u);
}

TEST(CleanerKeyMapTest, LatestOffsetPerKeyWithinItsBudget) {
  CleanerKeyMap m;
  m.reset(24 * 100);
  while (!m.prepare(7)) {
  }
  EXPECT_EQ(m.slots(), 100u);
  EXPECT_EQ(m.capacity(), 90u);
  for (uint64_t i = 0; i < 90; ++i) ASSERT_TRUE(m.put("key" + std::to_string(i), i));
  EXPECT_TRUE(m.full());
  EXPECT_FALSE(m.put("one more", 1000)) << "a full map takes no new key";
  EXPECT_TRUE(m.put("key7", 500)) << "a known key is updated when full";
  EXPECT_EQ(m.get("key7").value_or(0), 500u);
  EXPECT_EQ(m.get("key8").value_or(0), 8u);
  EXPECT_FALSE(m.get("one more").has_value());
  EXPECT_FALSE(m.get("").has_value());
  // Reused smaller: sized by the keys that can occur, and empty again.
  m.reset(24 * 100, 3);
  while (!m.prepare(1)) {
  }
  EXPECT_LE(m.slots(), 6u);
  EXPECT_FALSE(m.get("key7").has_value());
  // A budget below two slots still holds one key.
  m.reset(1);
  while (!m.prepare(1)) {
  }
  EXPECT_TRUE(m.put("a", 1));
  EXPECT_FALSE(m.put("b", 2));
}

}  // namespace
}  // namespace rustlog
