// End to end, at the exact size boundaries: every record the broker
// acknowledges can be fetched, through Fetch and FetchEx, even with
// max_bytes = 1; a produce whose records no fetch answer could carry within
// --max-frame-bytes is refused with 413 and leaves the log as it was. A
// small --max-frame-bytes keeps the records small; the arithmetic is the
// same at the 10 MiB default.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "protocol/answer_size.h"
#include "support/broker_calls.h"
#include "support/broker_process.h"

namespace rustlog::test {
namespace {

using namespace protocol;

constexpr uint32_t kMaxFrame = 64 * 1024;

uint64_t high_watermark(client::Connection& c, const std::string& topic) {
  return call<DescribePartitionResponse>(c, DescribePartitionRequest{topic, 0}).high_watermark;
}

// The record at `offset` comes back whole through both fetches, whatever
// max_bytes asks for.
void expect_fetchable(client::Connection& c, const std::string& topic, uint64_t offset, const std::string& value) {
  for (uint32_t max_bytes : {1u, kMaxFrame, 0xFFFFFFFFu}) {
    SCOPED_TRACE("max_bytes " + std::to_string(max_bytes));
    auto fx = call<FetchExResponse>(c, FetchExRequest{topic, 0, offset, max_bytes, 0, 0});
    ASSERT_EQ(fx.records.size(), 1u);
    EXPECT_EQ(fx.records[0].offset, offset);
    EXPECT_TRUE(fx.records[0].value == value);
    auto f = call<FetchResponse>(c, FetchRequest{"", topic, 0, offset, max_bytes});
    ASSERT_EQ(f.records.size(), 1u);
    EXPECT_TRUE(f.records[0] == value);
    EXPECT_EQ(f.next_offset, offset + 1);
  }
}

// 413; a v0 Produce on this legacy connection (no Handshake) gets the v0
// code 15 FrameTooLarge (docs/PROTOCOL.md, "Error codes of legacy connections").
void expect_refused_as_unfetchable(const ErrorResponse& e, ErrorCode want = ErrorCode::kTooLarge) {
  EXPECT_EQ(e.code, want) << e.message;
  EXPECT_TRUE(has_substr(e.message, "never fetched"));
  EXPECT_TRUE(has_substr(e.message, std::to_string(max_fetchable_record_bytes(kMaxFrame))));
}

// Values of every size from max_frame_bytes - 64 up to what a request frame
// can carry: up to the accepted maximum (max_frame_bytes - 57 bytes of key
// and value) each is acknowledged and fetched by both protocols; above it
// each is refused with 413, before anything is appended.
TEST(BrokerMaxRecordTest, EveryAcknowledgedRecordSizeIsFetchableAndLargerOnesAreRefused) {
  BrokerProcess broker({"--max-frame-bytes", std::to_string(kMaxFrame)});
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  call<CreateTopicResponse>(c, CreateTopicRequest{"t", 1});
  const size_t accepted_max = max_fetchable_record_bytes(kMaxFrame);
  ASSERT_EQ(accepted_max, kMaxFrame - 57u);
  // ProduceEx of one record (null key, no headers) with value v: a frame of
  // v + 40 bytes with topic "t"; v0 Produce: v + 16.
  size_t acked = 0;
  for (size_t v = kMaxFrame - 64; v <= kMaxFrame - 16; ++v) {
    SCOPED_TRACE("value of " + std::to_string(v) + " bytes");
    const std::string value(v, static_cast<char>('a' + v % 26));
    const uint64_t before = high_watermark(c, "t");
    if (v <= kMaxFrame - 40) {
      ProduceExRequest req{"t", 0, kBrokerTimestamp, {ProducerRecord{.value = value}}};
      auto r = c.call(req);
      ASSERT_TRUE(r.is_ok()) << r.status().to_string();
      if (v <= accepted_max) {
        EXPECT_EQ(as<ProduceExResponse>(std::move(r)).base_offset, before);
        ASSERT_NO_FATAL_FAILURE(expect_fetchable(c, "t", before, value));
        ++acked;
      } else {
        ASSERT_NO_FATAL_FAILURE(expect_refused_as_unfetchable(as<ErrorResponse>(std::move(r))));
        EXPECT_EQ(high_watermark(c, "t"), before);
      }
    }
    const uint64_t before_v0 = high_watermark(c, "t");
    auto r = c.call(ProduceRequest{"t", 0, {value}});
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    if (v <= accepted_max) {
      EXPECT_EQ(as<ProduceResponse>(std::move(r)).base_offset, before_v0);
      ASSERT_NO_FATAL_FAILURE(expect_fetchable(c, "t", before_v0, value));
      ++acked;
    } else {
      ASSERT_NO_FATAL_FAILURE(
          expect_refused_as_unfetchable(as<ErrorResponse>(std::move(r)), v0(V0Code::kFrameTooLarge)));
      EXPECT_EQ(high_watermark(c, "t"), before_v0);
    }
  }
  EXPECT_EQ(acked, 2u * 8u);  // max_frame_bytes - 64 .. - 57, both produce requests
}

// Many tiny records in one request: a FetchEx record takes 28 bytes more
// than its key and value, more than in the request, so a request that fits
// a frame may make an answer that does not. The largest batch whose FetchEx
// answer fits is accepted and fetched; one record more is refused. Batches
// of tiny records after a large one: every FetchEx from every offset is
// answered (with the first batch alone when the rest does not fit).
TEST(BrokerMaxRecordTest, BatchesOfTinyRecordsAreAcceptedOnlyWhenTheirFetchAnswerFits) {
  BrokerProcess broker({"--max-frame-bytes", std::to_string(kMaxFrame)});
  ASSERT_TRUE(broker.start());
  auto c = broker.connect();
  call<CreateTopicResponse>(c, CreateTopicRequest{"t", 1});
  const size_t fits = (kMaxFrame - kFetchExAnswerFixedBytes) / fetch_ex_record_bytes(0, 0, 0, 0);
  auto tiny = [](size_t n) {
    ProduceExRequest req{"t", 0, 1'700'000'000'000'000, {}};
    req.records.assign(n, ProducerRecord{.value = std::string()});
    return req;
  };
  auto refused = call_error(c, tiny(fits + 1));
  ASSERT_NO_FATAL_FAILURE(expect_refused_as_unfetchable(refused));
  EXPECT_TRUE(has_substr(refused.message, "FetchEx answer"));
  EXPECT_EQ(high_watermark(c, "t"), 0u);
  EXPECT_EQ(call<ProduceExResponse>(c, tiny(fits)).base_offset, 0u);
  auto all = call<FetchExResponse>(c, FetchExRequest{"t", 0, 0, 1, 0, 0});
  EXPECT_EQ(all.records.size(), fits);
  // Then batches of every size from 1 to 300 tiny records, each after a
  // large one, and a FetchEx for as much as possible from every batch start.
  std::vector<uint64_t> starts{0};
  for (size_t n = 1; n <= 300; n += 7) {
    starts.push_back(call<ProduceExResponse>(c, tiny(fits - n)).base_offset);
    starts.push_back(call<ProduceExResponse>(c, tiny(n)).base_offset);
  }
  for (uint64_t o : starts) {
    SCOPED_TRACE("offset " + std::to_string(o));
    auto r = c.call(FetchExRequest{"t", 0, o, 0xFFFFFFFFu, 0, 0});
    ASSERT_TRUE(r.is_ok()) << r.status().to_string();
    auto f = as<FetchExResponse>(std::move(r));
    ASSERT_FALSE(f.records.empty());
    EXPECT_EQ(f.records[0].offset, o);
  }
}

}  // namespace
}  // namespace rustlog::test
