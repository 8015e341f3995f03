// The legacy produce fast path (broker/legacy_produce.h): the batch it builds
// is byte for byte BatchBuilder's for the same values, and its parser accepts
// exactly the payloads that decode_request decodes as a ProduceRequest with
// records (everything else falls back to the generic decoder).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "broker/legacy_produce.h"
#include "protocol/codec.h"
#include "storage/record_batch.h"

namespace rustlog {
namespace {

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

TEST(LegacyProduce, BatchIsBatchBuilders) {
  std::mt19937_64 rng(42);
  std::string got;
  for (int k = 0; k < 200; ++k) {
    const auto r = random_request(rng);
    const std::string payload = payload_of(r);
    LegacyProduce lp;
    ASSERT_TRUE(parse_legacy_produce(payload, &lp));
    EXPECT_EQ(lp.topic, r.topic);
    EXPECT_EQ(lp.partition, r.partition);
    EXPECT_EQ(lp.count, r.records.size());
    const int64_t now = 1'700'000'000'000'000 + k;
    build_legacy_batch(lp, now, got);
    BatchBuilder b;
    static const std::vector<RecordHeader> kNoHeaders;
    for (const auto& v : r.records) b.add(now, std::nullopt, v, kNoHeaders);
    EXPECT_EQ(got, b.finish()) << "request " << k;
  }
}

TEST(LegacyProduce, AcceptsExactlyWhatTheDecoderAccepts) {
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
      LegacyProduce lp;
      EXPECT_EQ(parse_legacy_produce(c, &lp), decoder_ok) << "case of " << c.size() << " bytes";
      if (decoder_ok) {
        const auto& pr = std::get<protocol::ProduceRequest>(*dec);
        EXPECT_EQ(lp.topic, pr.topic);
        EXPECT_EQ(lp.partition, pr.partition);
        EXPECT_EQ(lp.count, pr.records.size());
      }
    }
  }
}

}  // namespace
}  // namespace rustlog
