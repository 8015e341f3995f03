// produce_batch_frame (protocol/produce_batch.h) walks a ProduceEx frame in
// place; its ProduceBatch is byte for byte the one built from the decoded
// request (decode_request -> BatchBuilder -> encode_request), for random
// records under each codec, and it refuses what cannot be one batch.
#include <gtest/gtest.h>

#include <random>
#include <variant>

#include "common/batch_builder.h"
#include "protocol/codec.h"
#include "protocol/frame.h"
#include "protocol/produce_batch.h"
#include "protocol/produce_encoder.h"

namespace rustlog::protocol {
namespace {

ProducerRecord random_record(std::mt19937& rng, bool own_timestamp) {
  ProducerRecord r;
  std::uniform_int_distribution<int> len(0, 300), pick(0, 3);
  auto bytes = [&](int n) {
    std::string s(static_cast<size_t>(n), '\0');
    for (auto& c : s) c = static_cast<char>('a' + rng() % 8);  // compressible
    return s;
  };
  if (pick(rng) != 0) r.key = bytes(len(rng) / 10);
  if (pick(rng) != 0) r.value = bytes(len(rng));
  r.timestamp_us = own_timestamp ? static_cast<int64_t>(rng() % (1ull << 40)) : kBrokerTimestamp;
  for (int h = pick(rng); h > 0; --h) r.headers.push_back({"h" + std::to_string(h), bytes(len(rng) / 20)});
  return r;
}

// The rebuild through the decoded request: what produce_batch_frame must equal.
std::string rebuilt_from_decoded(const std::string& ex_frame, const Compression& c) {
  auto req = decode_request(std::string_view(ex_frame).substr(kFrameHeaderBytes));
  EXPECT_TRUE(req) << req.status().to_string();
  const auto& ex = std::get<ProduceExRequest>(*req);
  BatchBuilder b(0);
  for (const ProducerRecord& r : ex.records) b.add(effective_timestamp(ex, r, kBrokerTimestamp), r.key, r.value, r.headers);
  std::string frame;
  EXPECT_TRUE(encode_request(Request(ProduceBatchRequest{ex.topic, ex.partition, b.finish(c)}), frame, 64 << 20));
  return frame;
}

TEST(ProduceBatchTest, SameBatchAsTheDecodedRequestGivesForRandomRecordsUnderEveryCodec) {
  std::mt19937 rng(26);
  const Compression codecs[] = {{}, {Codec::kLz4, 0}, {Codec::kZstd, 3}};
  for (int round = 0; round < 150; ++round) {
    const bool own = round % 2 == 0;
    ProduceExEncoder e("topic-" + std::to_string(round), static_cast<uint32_t>(rng() % 7));
    const int n = 1 + static_cast<int>(rng() % 60);
    for (int i = 0; i < n; ++i) ASSERT_TRUE(e.add(random_record(rng, own)));
    const std::string ex = std::move(e).finish();
    for (const Compression& c : codecs) {
      auto got = produce_batch_frame(ex, c, 64 << 20);
      ASSERT_TRUE(got) << got.status().to_string();
      ASSERT_EQ(*got, rebuilt_from_decoded(ex, c)) << "round " << round << " codec " << codec_name(c.codec);
    }
  }
}

TEST(ProduceBatchTest, RefusesMixedTimestampRulesNoRecordsAndOtherFramesThenBuildsTheNextBatchCleanly) {
  std::mt19937 rng(3);
  ProduceExEncoder mixed("t", 0);
  ASSERT_TRUE(mixed.add(random_record(rng, true)));
  ASSERT_TRUE(mixed.add(random_record(rng, false)));
  auto m = produce_batch_frame(std::move(mixed).finish(), {Codec::kZstd, 3}, 64 << 20);
  ASSERT_FALSE(m);
  EXPECT_NE(m.status().message().find("mixes records"), std::string::npos) << m.status().to_string();

  auto empty = produce_batch_frame(ProduceExEncoder("t", 0).finish(), {Codec::kZstd, 3}, 64 << 20);
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.status().code(), ErrorCode::kInvalidRequest);

  std::string other;
  ASSERT_TRUE(encode_request(Request(ProduceBatchRequest{"t", 0, "ab"}), other, 1 << 20));
  EXPECT_FALSE(produce_batch_frame(other, {Codec::kZstd, 3}, 64 << 20));
  EXPECT_FALSE(produce_batch_frame("ab", {Codec::kZstd, 3}, 64 << 20));
  ProduceExEncoder truncated("t", 0);
  ASSERT_TRUE(truncated.add(random_record(rng, false)));
  std::string cut = std::move(truncated).finish();
  cut.resize(cut.size() - 3);
  EXPECT_FALSE(produce_batch_frame(cut, {Codec::kZstd, 3}, 64 << 20));

  // The refused batches left nothing behind in the (per-thread) builder.
  ProduceExEncoder next("t", 1);
  ASSERT_TRUE(next.add(random_record(rng, false)));
  const std::string ex = std::move(next).finish();
  auto ok = produce_batch_frame(ex, {Codec::kZstd, 3}, 64 << 20);
  ASSERT_TRUE(ok) << ok.status().to_string();
  EXPECT_EQ(*ok, rebuilt_from_decoded(ex, {Codec::kZstd, 3}));
}

}  // namespace
}  // namespace rustlog::protocol
