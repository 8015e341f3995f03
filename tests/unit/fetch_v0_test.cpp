// The v0 FetchResponse encoder (protocol/fetch_v0.h): golden bytes, and,
// fed by the broker's record walk (broker/fetch_v0_walk.h: storage's
// zero-copy RecordWalker), against the reference path it replaces:
// decode_batches -> FetchResponse -> encode_response must give the same bytes
// for random batches (null/empty keys and values, headers, gaps, start
// offsets inside a batch, every max_bytes), and every corruption
// decode_batch rejects is rejected too.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "broker/fetch_v0_walk.h"
#include "protocol/fetch_v0.h"
#include "protocol/codec.h"
#include "common/byte_order.h"
#include "common/crc32c.h"
#include "storage/record_batch.h"
#include "storage/record_view.h"
#include "support/record_gen.h"

namespace rustlog {
namespace {

using protocol::FetchV0Encoder;
using protocol::FetchV0Info;
using test::build_batch;
using test::RecordGen;
using test::seed_trace;

// The broker's former legacy fetch: decode everything, then cut at max_bytes.
Status reference(std::string_view data, uint64_t start, uint32_t max_bytes, std::string& out) {
  std::vector<Record> recs;
  RUSTLOG_RETURN_IF_ERROR(decode_batches(data, start, &recs));
  protocol::FetchResponse resp;
  size_t bytes = 0;
  for (auto& rec : recs) {
    if (!resp.records.empty() && bytes + (rec.value ? rec.value->size() : 0) + 4 > max_bytes) break;
    bytes += (rec.value ? rec.value->size() : 0) + 4;
    resp.records.push_back(rec.value ? *rec.value : std::string());
    resp.next_offset = rec.offset + 1;
  }
  if (resp.records.empty()) resp.next_offset = start;
  return protocol::encode_response(protocol::Response(resp), out);
}

// The whole frame for `batches`, as the broker builds it (one slice). On
// failure `out` is left as it was.
Status append_fetch_v0(std::string_view batches, uint64_t start, uint32_t max_bytes, uint32_t max_frame,
                       bool check_crc, std::string& out, FetchV0Info* info = nullptr) {
  const size_t at = out.size();
  FetchV0Encoder enc(start, max_bytes);
  enc.begin(out);
  if (Status st = add_fetch_v0_records(enc, batches, check_crc, out); !st) {
    out.resize(at);
    return st;
  }
  RUSTLOG_RETURN_IF_ERROR(enc.finish(out, max_frame));
  if (info) *info = enc.info();
  return Status::ok();
}

// Several batches with offset gaps between them (as compaction leaves).
std::string make_log(RecordGen& g, uint64_t* first, uint64_t* end) {
  std::string data;
  uint64_t base = g.uniform(0, 1000);
  *first = base;
  const size_t n = g.uniform(1, 6);
  for (size_t i = 0; i < n; ++i) {
    auto recs = g.records(test::kBaseTimestampUs + static_cast<int64_t>(i) * 1000);
    data += build_batch(recs, base);
    base += recs.size() + g.uniform(0, 3);
  }
  *end = base;
  return data;
}

// Hand-built bytes of docs/PROTOCOL.md's FetchResponse: u32 length, 0x02,
// count, count x bytes value, u64 next_offset.
TEST(FetchV0, GoldenBytes) {
  std::string out = "prefix";
  FetchV0Encoder enc(5, 100);
  enc.begin(out);
  EXPECT_TRUE(enc.add(5, "hi", out));
  EXPECT_TRUE(enc.add(7, "", out));  // a tombstone or an empty value
  ASSERT_TRUE(enc.finish(out, protocol::kDefaultMaxFrameBytes).is_ok());
  EXPECT_EQ(out, "prefix" + std::string("\x00\x00\x00\x17\x02\x00\x00\x00\x02"
                                        "\x00\x00\x00\x02hi\x00\x00\x00\x00"
                                        "\x00\x00\x00\x00\x00\x00\x00\x08", 27));
  EXPECT_EQ(enc.info().records, 2u);
  EXPECT_EQ(enc.info().next_offset, 8u);
  // Nothing added: no records, next_offset = the start offset.
  std::string empty;
  FetchV0Encoder none(42, 100);
  none.begin(empty);
  ASSERT_TRUE(none.finish(empty, protocol::kDefaultMaxFrameBytes).is_ok());
  EXPECT_EQ(empty, std::string("\x00\x00\x00\x0d\x02\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x2a", 17));
  // max_bytes: the first record always fits, then 4 + length per record.
  std::string cut;
  FetchV0Encoder small(0, 6);
  small.begin(cut);
  EXPECT_TRUE(small.add(0, "abcdefgh", cut));
  EXPECT_FALSE(small.add(1, "", cut));
  EXPECT_TRUE(small.full());
  EXPECT_FALSE(small.add(2, "", cut));
  EXPECT_EQ(small.info().records, 1u);
  EXPECT_EQ(small.info().next_offset, 1u);
}

TEST(FetchV0, SameBytesAsDecodeThenEncode) {
  for (uint64_t seed = 1; seed <= 300; ++seed) {
    SCOPED_TRACE(seed_trace(seed));
    RecordGen g(seed);
    uint64_t first, end;
    const std::string data = make_log(g, &first, &end);
    for (int k = 0; k < 8; ++k) {
      const uint64_t start = g.uniform(first, end);
      const uint32_t max_bytes = static_cast<uint32_t>(k == 0 ? 0 : g.uniform(1, 2000));
      std::string want, got = "prefix";
      ASSERT_TRUE(reference(data, start, max_bytes, want).is_ok());
      FetchV0Info info;
      ASSERT_TRUE(append_fetch_v0(data, start, max_bytes, protocol::kDefaultMaxFrameBytes,
                                               k % 2 == 0, got, &info)
                      .is_ok());
      EXPECT_EQ(got, "prefix" + want);
      auto decoded = protocol::decode_response(std::string_view(want).substr(4));
      ASSERT_TRUE(decoded.is_ok());
      const auto& fr = std::get<protocol::FetchResponse>(*decoded);
      EXPECT_EQ(info.records, fr.records.size());
      EXPECT_EQ(info.next_offset, fr.next_offset);
    }
  }
}

TEST(FetchV0, EmptyInputAnswersNothingAtTheStartOffset) {
  std::string got, want;
  ASSERT_TRUE(append_fetch_v0("", 42, 100, protocol::kDefaultMaxFrameBytes, true, got).is_ok());
  ASSERT_TRUE(reference("", 42, 100, want).is_ok());
  EXPECT_EQ(got, want);
}

TEST(FetchV0, TooLargeFrameIs413AndLeavesOutputAlone) {
  std::vector<Record> recs(3);
  for (auto& r : recs) r.value = std::string(1000, 'v');
  const std::string data = build_batch(recs, 0);
  std::string out = "keep";
  Status st = append_fetch_v0(data, 0, 1 << 20, 1500, false, out);
  EXPECT_EQ(st.code(), ErrorCode::kTooLarge);
  EXPECT_EQ(out, "keep");
}

TEST(FetchV0, CorruptionIsRejectedLikeDecodeBatch) {
  RecordGen g(7);
  uint64_t first, end;
  const std::string data = make_log(g, &first, &end);
  // Every single-byte change past the base offset that decode_batches (CRC
  // check included) rejects must be rejected by the CRC-checking walk; the
  // walk without CRC must never read out of bounds (ASan builds check that)
  // and must reject whatever breaks the structure.
  for (size_t i = 0; i < data.size(); ++i) {
    std::string bad = data;
    bad[i] = static_cast<char>(bad[i] ^ 0x5A);
    std::vector<Record> recs;
    const bool ref_ok = decode_batches(bad, 0, &recs).is_ok();
    std::string out = "x";
    Status st = append_fetch_v0(bad, 0, 1 << 30, protocol::kDefaultMaxFrameBytes, true, out);
    EXPECT_EQ(st.is_ok(), ref_ok) << "byte " << i;
    if (!st.is_ok()) {
      EXPECT_EQ(st.code(), ErrorCode::kCorruptRecord);
      EXPECT_EQ(out, "x");
    }
    std::string out2;
    (void)append_fetch_v0(bad, 0, 1 << 30, protocol::kDefaultMaxFrameBytes, false, out2);
  }
  // Truncations: never whole batches.
  for (size_t n = 1; n < data.size(); ++n) {
    std::vector<Record> recs;
    if (decode_batches(std::string_view(data).substr(0, n), 0, &recs).is_ok()) continue;
    std::string out;
    EXPECT_FALSE(append_fetch_v0(std::string_view(data).substr(0, n), 0, 1 << 30,
                                              protocol::kDefaultMaxFrameBytes, false, out)
                     .is_ok())
        << "length " << n;
  }
}

}  // namespace
}  // namespace rustlog
