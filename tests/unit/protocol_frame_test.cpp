// FrameDecoder and frame writing (docs/PROTOCOL.md, "Framing").
#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

#include "protocol/frame.h"

namespace rustlog::protocol {
namespace {

std::string frame_of(std::string_view payload) {
  std::string out;
  EXPECT_TRUE(append_frame(out, payload).is_ok());
  return out;
}

std::string raw_length(uint32_t n) {
  return {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
          static_cast<char>(n)};
}

// Payloads of assorted sizes, including ones whose bytes look like lengths.
std::vector<std::string> sample_payloads() {
  std::vector<std::string> out = {"\x01", std::string(4, '\0'), "hello", std::string(70000, 'z')};
  std::mt19937 rng(7);
  for (int i = 0; i < 50; ++i) {
    std::string p(1 + rng() % 300, '\0');
    for (char& c : p) c = static_cast<char>(rng());
    out.push_back(p);
  }
  return out;
}

// Feeds `stream` in chunks chosen by `next_chunk` and collects every frame.
template <typename ChunkFn>
std::vector<std::string> drain(const std::string& stream, ChunkFn next_chunk) {
  FrameDecoder dec;
  std::vector<std::string> frames;
  size_t pos = 0;
  while (pos < stream.size()) {
    const size_t n = std::min(next_chunk(), stream.size() - pos);
    dec.feed(std::string_view(stream).substr(pos, n));
    pos += n;
    for (;;) {
      auto f = dec.next();
      EXPECT_TRUE(f.is_ok()) << f.status().to_string();
      if (!f.is_ok() || !*f) break;
      frames.emplace_back(**f);
    }
  }
  EXPECT_EQ(dec.buffered_bytes(), 0u);
  return frames;
}

TEST(ProtocolFrameTest, FedByteByByteYieldsEveryFrame) {
  const auto payloads = sample_payloads();
  std::string stream;
  for (const auto& p : payloads) stream += frame_of(p);
  EXPECT_EQ(drain(stream, [] { return size_t{1}; }), payloads);
}

TEST(ProtocolFrameTest, FedInRandomChunksYieldsEveryFrame) {
  const auto payloads = sample_payloads();
  std::string stream;
  for (const auto& p : payloads) stream += frame_of(p);
  for (uint32_t seed = 1; seed <= 20; ++seed) {
    std::mt19937 rng(seed);
    EXPECT_EQ(drain(stream, [&] { return size_t{1} + rng() % 9000; }), payloads) << seed;
  }
  EXPECT_EQ(drain(stream, [&] { return stream.size(); }), payloads);  // all at once
}

TEST(ProtocolFrameTest, PartialFrameWaitsForMoreBytes) {
  FrameDecoder dec;
  const std::string f = frame_of("abc");
  dec.feed(f.substr(0, 3));
  auto r = dec.next();
  ASSERT_TRUE(r.is_ok());
  EXPECT_FALSE(r->has_value());
  dec.feed(f.substr(3, 3));
  r = dec.next();
  ASSERT_TRUE(r.is_ok());
  EXPECT_FALSE(r->has_value());
  EXPECT_EQ(dec.buffered_bytes(), 6u);
  dec.feed(f.substr(6));
  r = dec.next();
  ASSERT_TRUE(r.is_ok());
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(**r, "abc");
}

TEST(ProtocolFrameTest, ZeroLengthFrameIsFatal400) {
  FrameDecoder dec;
  dec.feed(frame_of("ok") + raw_length(0) + frame_of("never"));
  auto first = dec.next();
  ASSERT_TRUE(first.is_ok() && first->has_value());
  auto bad = dec.next();
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kInvalidRequest);
  EXPECT_TRUE(dec.failed());
  // Sticky: the stream cannot be resynchronised.
  dec.feed(frame_of("more"));
  EXPECT_EQ(dec.next().status().code(), ErrorCode::kInvalidRequest);
}

TEST(ProtocolFrameTest, OversizedFrameIsFatal413AsSoonAsItsLengthArrives) {
  FrameDecoder dec;
  dec.feed(raw_length(kDefaultMaxFrameBytes + 1));  // no payload sent at all
  auto bad = dec.next();
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), ErrorCode::kTooLarge);
  EXPECT_NE(bad.status().message().find("10485761"), std::string::npos);
  EXPECT_EQ(dec.buffered_bytes(), 0u);

  FrameDecoder huge;
  huge.feed(raw_length(0xFFFFFFFF));
  EXPECT_EQ(huge.next().status().code(), ErrorCode::kTooLarge);
}

TEST(ProtocolFrameTest, MaxFrameBytesIsConfigurableAndInclusive) {
  FrameDecoder dec(16);
  dec.feed(frame_of(std::string(16, 'a')));
  auto ok = dec.next();
  ASSERT_TRUE(ok.is_ok() && ok->has_value());
  EXPECT_EQ((*ok)->size(), 16u);
  dec.feed(raw_length(17));
  EXPECT_EQ(dec.next().status().code(), ErrorCode::kTooLarge);
  EXPECT_EQ(dec.max_frame_bytes(), 16u);
}

TEST(ProtocolFrameTest, DefaultMaximumIsTenMebibytes) {
  EXPECT_EQ(kDefaultMaxFrameBytes, 10'485'760u);
  FrameDecoder dec;
  const std::string payload(kDefaultMaxFrameBytes, 'm');
  dec.feed(frame_of(payload));
  auto r = dec.next();
  ASSERT_TRUE(r.is_ok() && r->has_value());
  EXPECT_EQ((*r)->size(), payload.size());
}

TEST(ProtocolFrameTest, EndFrameRejectsEmptyAndOversizedPayloads) {
  std::string out = "keep";
  EXPECT_EQ(append_frame(out, "").code(), ErrorCode::kInvalidRequest);
  EXPECT_EQ(append_frame(out, "12345", 4).code(), ErrorCode::kTooLarge);
  EXPECT_EQ(out, "keep");
  ASSERT_TRUE(append_frame(out, "1234", 4).is_ok());
  EXPECT_EQ(out, "keep" + raw_length(4) + "1234");
}

TEST(ProtocolFrameTest, CheckFrameLength) {
  EXPECT_EQ(check_frame_length(0, 10).code(), ErrorCode::kInvalidRequest);
  EXPECT_TRUE(check_frame_length(1, 10).is_ok());
  EXPECT_TRUE(check_frame_length(10, 10).is_ok());
  EXPECT_EQ(check_frame_length(11, 10).code(), ErrorCode::kTooLarge);
}

}  // namespace
}  // namespace rustlog::protocol
