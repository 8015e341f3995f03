// The v0 Produce codec (protocol/produce_v0.h): golden bytes of the batch it
// builds and of the ProduceResponse; the batch is byte for byte BatchBuilder's
// for the same values, and the parser accepts exactly the payloads that
// decode_request decodes as a ProduceRequest with records (everything else
// falls back to the generic decoder).
#include "protocol/produce_v0.h"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "protocol/codec.h"
#include "storage/record_batch.h"
#include "support/broker_calls.h"

namespace rustlog {
namespace {

using protocol::ProduceV0;
using test::from_hex;

std::string payload_of(const protocol::ProduceRequest& r) {
  std::string frame;
  EXPECT_TRUE(protocol::encode_request(protocol::Request(r), frame).is_ok());
  return frame.substr(4);
}

protocol::ProduceRequest random_request(std::mt19937_64& rng) {
  protocol::ProduceRequest r;
  r.topic = "topic-" + std::to_string(rng() % 100);
  r.partition = static_cast<uint32_t>(rng() % 5);
  const size_t n = 1 + rng() % 300;  // offset deltas past 127 take two bytes
  for (size_t i = 0; i < n; ++i) {
    const size_t len = rng() % 4 == 0 ? rng() % 3 : rng() % 300;  // empty, tiny, two-byte lengths
    std::string v(len, '\0');
    for (auto& c : v) c = static_cast<char>(rng());
    r.records.push_back(v);
  }
  return r;
}

// The worked example's Produce of "hi" to t/0 (docs/PROTOCOL.md), stored at
// offset 7: the batch of docs/STORAGE.md "Record batch", field by field.
TEST(ProduceV0, GoldenBatchAndResponse) {
  const std::string payload = from_hex("01  00 01 74  00 00 00 00  00 00 00 01  00 00 00 02 68 69");
  ProduceV0 p;
  ASSERT_TRUE(protocol::parse_produce_v0(payload, &p));
  EXPECT_EQ(p.topic, "t");
  EXPECT_EQ(p.partition, 0u);
  EXPECT_EQ(p.count, 1u);
  std::string batch = "old contents";
  protocol::build_produce_v0_batch(p, 1700000000123456, batch, 7);
  EXPECT_EQ(batch, from_hex("00 00 00 00 00 00 00 07"     // base_offset 7
                            "00 00 00 28"                 // batch_length 40
                            "01"                          // magic
                            "ec 25 b6 9c"                 // CRC-32C
                            "00 00"                       // attributes
                            "00 00 00 00"                 // last_offset_delta
                            "00 06 0a 24 18 20 22 40"     // first_timestamp
                            "00 06 0a 24 18 20 22 40"     // max_timestamp
                            "00 00 00 01"                 // record_count
                            "08 00 00 00 01 04 68 69 00"  // len 8, attrs, ts 0, delta 0, key -1, value "hi", 0 headers
                            ));
  std::string frame = "x";
  protocol::encode_produce_v0_response(7, 1, frame);
  EXPECT_EQ(frame, from_hex("00 00 00 0d  01  00 00 00 00 00 00 00 07  00 00 00 01"));
  std::string generic;
  ASSERT_TRUE(protocol::encode_response(protocol::Response(protocol::ProduceResponse{7, 1}), generic).is_ok());
  EXPECT_EQ(frame, generic);
  protocol::encode_produce_v0_response(0x0102030405060708, 0xA0B0C0D0, frame);
  EXPECT_EQ(frame, from_hex("00 00 00 0d  01  01 02 03 04 05 06 07 08  a0 b0 c0 d0"));
}

TEST(ProduceV0, BatchIsBatchBuilders) {
  std::mt19937_64 rng(42);
  std::string got;
  for (int k = 0; k < 200; ++k) {
    const auto r = random_request(rng);
    const std::string payload = payload_of(r);
    ProduceV0 p;
    ASSERT_TRUE(protocol::parse_produce_v0(payload, &p));
    EXPECT_EQ(p.topic, r.topic);
    EXPECT_EQ(p.partition, r.partition);
    EXPECT_EQ(p.count, r.records.size());
    const int64_t now = 1'700'000'000'000'000 + k;
    const uint64_t base = static_cast<uint64_t>(k) * 1000;
    protocol::build_produce_v0_batch(p, now, got, base);
    BatchBuilder b(base);
    static const std::vector<RecordHeader> kNoHeaders;
    for (const auto& v : r.records) b.add(now, std::nullopt, v, kNoHeaders);
    EXPECT_EQ(got, b.finish()) << "request " << k;
  }
}

TEST(ProduceV0, AcceptsExactlyWhatTheDecoderAccepts) {
  std::mt19937_64 rng(7);
  for (int k = 0; k < 50; ++k) {
    auto r = random_request(rng);
    r.records.resize(1 + rng() % 4);
    const std::string good = payload_of(r);
    std::vector<std::string> cases;
    for (size_t n = 0; n <= good.size(); ++n) cases.push_back(good.substr(0, n));  // truncations
    cases.push_back(good + "x");                                                     // trailing byte
    for (int f = 0; f < 40; ++f) {                                                   // corruptions
      std::string bad = good;
      bad[rng() % bad.size()] = static_cast<char>(rng());
      cases.push_back(bad);
    }
    std::string bad_topic = good;
    bad_topic[3] = '\0';  // NUL in the topic
    cases.push_back(bad_topic);
    protocol::ProduceRequest empty;
    empty.topic = "t";
    cases.push_back(payload_of(empty));  // no records: the handler's error, via the decoder
    for (const auto& c : cases) {
      auto dec = protocol::decode_request(c);
      const bool decoder_ok = dec.is_ok() && std::holds_alternative<protocol::ProduceRequest>(*dec) &&
                              !std::get<protocol::ProduceRequest>(*dec).records.empty();
      ProduceV0 p;
      EXPECT_EQ(protocol::parse_produce_v0(c, &p), decoder_ok) << "case of " << c.size() << " bytes";
      if (decoder_ok) {
        const auto& pr = std::get<protocol::ProduceRequest>(*dec);
        EXPECT_EQ(p.topic, pr.topic);
        EXPECT_EQ(p.partition, pr.partition);
        EXPECT_EQ(p.count, pr.records.size());
      }
    }
  }
}

}  // namespace
}  // namespace rustlog
