// ProduceExEncoder builds the same bytes as encode_request(ProduceExRequest),
// and the partitioner is FNV-1a 32 as documented.
#include <gtest/gtest.h>

#include <random>

#include "client/partitioner.h"
#include "protocol/codec.h"
#include "protocol/produce_encoder.h"

namespace rustlog::protocol {
namespace {

ProducerRecord random_record(std::mt19937& rng) {
  ProducerRecord r;
  std::uniform_int_distribution<int> len(0, 300), pick(0, 3);
  auto bytes = [&](int n) {
    std::string s(static_cast<size_t>(n), '\0');
    for (auto& c : s) c = static_cast<char>(rng());
    return s;
  };
  if (pick(rng) != 0) r.key = bytes(len(rng) / 10);
  if (pick(rng) != 0) r.value = bytes(len(rng));
  r.timestamp_us = pick(rng) == 0 ? kBrokerTimestamp : static_cast<int64_t>(rng());
  for (int h = pick(rng); h > 0; --h) r.headers.push_back({"h" + std::to_string(h), bytes(len(rng) / 20)});
  return r;
}

TEST(ProduceEncoderTest, SameBytesAsTheCodecForRandomBatches) {
  std::mt19937 rng(14);
  for (int round = 0; round < 200; ++round) {
    ProduceExRequest req;
    req.topic = "topic-" + std::to_string(round);
    req.partition = static_cast<uint32_t>(rng() % 7);
    const int n = 1 + static_cast<int>(rng() % 40);
    ProduceExEncoder e(req.topic, req.partition);
    EXPECT_EQ(e.frame_bytes(), ProduceExEncoder::head_bytes(req.topic));
    for (int i = 0; i < n; ++i) {
      req.records.push_back(random_record(rng));
      if (i % 2 == 0) {
        ASSERT_TRUE(e.add(req.records.back()));
      } else {
        std::string enc;
        ASSERT_TRUE(ProduceExEncoder::encode(req.records.back(), enc));
        e.add_encoded(enc);
      }
    }
    EXPECT_EQ(e.record_count(), static_cast<uint32_t>(n));
    std::string expected;
    ASSERT_TRUE(encode_request(req, expected));
    EXPECT_EQ(std::move(e).finish(), expected) << "round " << round;
  }
}

TEST(ProduceEncoderTest, AnUnencodableRecordLeavesTheFrameAsItWas) {
  ProduceExEncoder e("t", 0);
  ProducerRecord ok;
  ok.value = "fine";
  ASSERT_TRUE(e.add(ok));
  const size_t before = e.frame_bytes();
  ProducerRecord bad;
  bad.value = "v";
  bad.headers.push_back({std::string("\xff\xfe", 2), "x"});  // not UTF-8
  Status st = e.add(bad);
  EXPECT_EQ(st.code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(st.message().find("header name"), std::string::npos) << st.message();
  bad.headers.clear();
  bad.timestamp_us = -5;
  EXPECT_EQ(e.add(bad).code(), ErrorCode::kInvalidRequest);
  EXPECT_EQ(e.frame_bytes(), before);
  EXPECT_EQ(e.record_count(), 1u);
  std::string out;
  EXPECT_FALSE(ProduceExEncoder::encode(bad, out));
  EXPECT_TRUE(out.empty());
}

// The published FNV-1a 32-bit test vectors, and the modulo rule.
TEST(PartitionerTest, IsFnv1a32ModuloThePartitionCount) {
  EXPECT_EQ(client::fnv1a_32(""), 0x811c9dc5u);
  EXPECT_EQ(client::fnv1a_32("a"), 0xe40c292cu);
  EXPECT_EQ(client::fnv1a_32("foobar"), 0xbf9cf968u);
  EXPECT_EQ(client::fnv1a_32(std::string("\x00\xff", 2)), (((0x811c9dc5u ^ 0u) * 16777619u) ^ 0xffu) * 16777619u);
  EXPECT_EQ(client::partition_for_key("foobar", 7), 0xbf9cf968u % 7);
  EXPECT_EQ(client::partition_for_key("customer-7", 3), client::fnv1a_32("customer-7") % 3);
  EXPECT_EQ(client::partition_for_key("anything", 1), 0u);
  EXPECT_EQ(client::partition_for_key("anything", 0), 0u);
}

}  // namespace
}  // namespace rustlog::protocol
