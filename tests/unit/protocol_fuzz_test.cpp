// Seeded random inputs: decoding never crashes, every rejection is 400, and any
// input that does decode re-encodes to exactly the same bytes (the encoding is
// canonical, so nothing is silently dropped or reinterpreted).
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "protocol/codec.h"

namespace rustlog::protocol {
namespace {

constexpr int kIterations = 100'000;

std::string payload_of(const Request& req) {
  std::string frame;
  EXPECT_TRUE(encode_request(req, frame).is_ok());
  return frame.substr(kFrameHeaderBytes);
}

std::string payload_of(const Response& resp) {
  std::string frame;
  EXPECT_TRUE(encode_response(resp, frame).is_ok());
  return frame.substr(kFrameHeaderBytes);
}

std::vector<std::string> seed_payloads() {
  Record rec{3, 17, "key", std::nullopt, {{"h", "v"}}};
  return {
      payload_of(Request{ProduceRequest{"t", 0, {"hi", "there"}}}),
      payload_of(Request{FetchRequest{"g", "t", 1, 2, 3}}),
      payload_of(Request{OffsetCommitRequest{"g", "t", 1, 2}}),
      payload_of(Request{HandshakeRequest{"v1"}}),
      payload_of(Request{ProduceExRequest{"t", 0, -1, {{5, "k", "v", {{"a", "b"}}}, {}}}}),
      payload_of(Request{FetchExRequest{"t", 0, 1, 2, 3, 4}}),
      payload_of(Request{ListOffsetsRequest{"t", 0, 99}}),
      payload_of(Request{CreateTopicExRequest{"t", 2, {{"flush", "1"}, {"segment.ms", "9"}}}}),
      payload_of(Response{FetchExResponse{9, 1, {rec, rec}, 10}}),
      payload_of(Response{DescribeTopicResponse{"t", 1, {{0, 4}}}}),
      payload_of(Response{DescribeGroupResponse{{{"t", 0, 1, 2, 1}}}}),
      payload_of(Response{OffsetFetchResponse{5}}),
      payload_of(Response{HandshakeResponse{"s", 10, {MessageType::kPing}}}),
  };
}

// Decodes `payload` both ways; checks the invariants stated at the top.
void check(const std::string& payload) {
  Result<Request> req = decode_request(payload);
  if (req.is_ok()) {
    std::string again;
    ASSERT_TRUE(encode_request(*req, again).is_ok());
    ASSERT_EQ(again.substr(kFrameHeaderBytes), payload);
  } else {
    ASSERT_EQ(req.status().code(), ErrorCode::kInvalidRequest);
    ASSERT_FALSE(req.status().message().empty());
  }
  Result<Response> resp = decode_response(payload);
  if (resp.is_ok()) {
    std::string again;
    ASSERT_TRUE(encode_response(*resp, again).is_ok());
    ASSERT_EQ(again.substr(kFrameHeaderBytes), payload);
  } else {
    ASSERT_EQ(resp.status().code(), ErrorCode::kInvalidRequest);
  }
}

TEST(ProtocolFuzzTest, RandomGarbageNeverCrashes) {
  std::mt19937 rng(20261126);
  const auto& types = supported_request_types();
  int decoded = 0;
  for (int i = 0; i < kIterations; ++i) {
    std::string p(rng() % 64, '\0');
    for (char& c : p) c = static_cast<char>(rng());
    // Mostly valid type bytes, so the field decoders (not the type check) are hit.
    if (!p.empty() && rng() % 8 != 0) p[0] = static_cast<char>(types[rng() % types.size()]);
    // Small lengths and counts are far likelier to reach deep fields.
    if (p.size() > 4 && rng() % 2 == 0) p[1 + rng() % (p.size() - 1)] = static_cast<char>(rng() % 4);
    check(p);
    if (HasFatalFailure()) return;
    decoded += decode_request(p).is_ok();
  }
  EXPECT_GT(decoded, 0);  // the generator does reach valid messages
}

TEST(ProtocolFuzzTest, MutatedValidMessagesNeverCrash) {
  std::mt19937 rng(42);
  const auto seeds = seed_payloads();
  for (int i = 0; i < kIterations; ++i) {
    std::string p = seeds[rng() % seeds.size()];
    const int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits && !p.empty(); ++e) {
      const size_t at = rng() % p.size();
      switch (rng() % 5) {
        case 0: p[at] = static_cast<char>(rng()); break;
        case 1: p[at] = static_cast<char>(p[at] ^ (1 << (rng() % 8))); break;
        case 2: p.erase(at, 1 + rng() % 4); break;
        case 3: p.insert(at, 1 + rng() % 4, static_cast<char>(rng())); break;
        case 4: p.resize(at); break;
      }
    }
    check(p);
    if (HasFatalFailure()) return;
  }
}

TEST(ProtocolFuzzTest, RandomStreamsThroughFrameDecoderNeverCrash) {
  std::mt19937 rng(7);
  int frames_seen = 0;
  for (int i = 0; i < 2'000; ++i) {
    FrameDecoder dec(1 + rng() % 4096);
    for (int chunk = 0; chunk < 20 && !dec.failed(); ++chunk) {
      std::string c(rng() % 64, '\0');
      for (char& b : c) b = static_cast<char>(rng());
      if (rng() % 2 == 0) {  // a plausible frame: small length, then that many bytes
        const uint32_t len = rng() % 48;
        c = std::string{0, 0, 0, static_cast<char>(len)} + c.substr(0, len);
      }
      dec.feed(c);
      for (;;) {
        auto f = dec.next();
        if (!f.is_ok()) {
          ASSERT_TRUE(f.status().code() == ErrorCode::kInvalidRequest ||
                      f.status().code() == ErrorCode::kTooLarge);
          break;
        }
        if (!*f) break;
        ASSERT_FALSE((*f)->empty());
        ASSERT_LE((*f)->size(), dec.max_frame_bytes());
        ++frames_seen;
        check(std::string(**f));
        if (HasFatalFailure()) return;
      }
    }
  }
  EXPECT_GT(frames_seen, 1000);
}

}  // namespace
}  // namespace rustlog::protocol
