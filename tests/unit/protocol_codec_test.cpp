// Round trips of every message, and every malformed-input rule of decode_request /
// decode_response (docs/PROTOCOL.md, "Decoding rules").
#include <gtest/gtest.h>

#include <limits>
#include <set>
#include <string>
#include <vector>

#include "protocol/codec.h"

namespace rustlog::protocol {
namespace {

constexpr uint64_t kMaxU64 = std::numeric_limits<uint64_t>::max();
constexpr uint32_t kMaxU32 = std::numeric_limits<uint32_t>::max();

// Several instances per type where layouts branch (nulls, empties, extremes).
std::vector<Request> sample_requests() {
  ProducerRecord full{1'700'000'000'000'000, "key", "value", {{"h1", "v1"}, {"h2", ""}}};
  ProducerRecord tombstone{-1, "k", std::nullopt, {}};
  ProducerRecord bare{-1, std::nullopt, std::string(), {{"bin", std::string("\0\xff", 2)}}};
  return {
      ProduceRequest{"t", 0, {"hi"}},
      ProduceRequest{"orders", 7, {"", std::string(300, 'x'), std::string("\0\x01", 2)}},
      ProduceRequest{"empty", 1, {}},
      FetchRequest{"", "t", 0, 7, 1 << 20},
      FetchRequest{"group-1", "tôpic", kMaxU32, kMaxU64, 0},
      OffsetCommitRequest{"g", "t", 3, 42},
      OffsetFetchRequest{"g", "t", 3},
      CreateTopicRequest{"new-topic", 12},
      ListTopicsRequest{},
      DescribeTopicRequest{"t"},
      DescribePartitionRequest{"t", 2},
      MetricsFetchRequest{},
      PingRequest{},
      HandshakeRequest{"rustlog-cpp/0.1.0"},
      HandshakeRequest{""},
      ProduceExRequest{"t", 0, -1, {full, tombstone, bare}},
      ProduceExRequest{"t", 1, 1'700'000'000'000'000, {ProducerRecord{}}},
      ProduceExRequest{"t", 2, 0, {}},
      FetchExRequest{"t", 0, 100, 1 << 20, 500, 1},
      ListOffsetsRequest{"t", 0, kListOffsetsEarliest},
      ListOffsetsRequest{"t", 0, kListOffsetsLatest},
      ListOffsetsRequest{"t", 0, 1'700'000'000'000'000},
      CreateTopicExRequest{"c", 3, {{"segment.bytes", "1048576"}, {"cleanup.policy", "compact"}}},
      CreateTopicExRequest{"c", 1, {}},
      DescribeTopicConfigRequest{"c"},
      DeleteTopicRequest{"c"},
      ListGroupsRequest{},
      DescribeGroupRequest{"g"},
      DeleteGroupRequest{"g"},
      ProduceBatchRequest{"t", 3, std::string("\x00\x01 a batch's bytes, opaque to the codec", 40)},
      ProduceBatchRequest{"t", 0, ""},
  };
}

std::vector<Response> sample_responses() {
  Record r1{5, 1'700'000'000'000'000, "k", "v", {{"h", "x"}}};
  Record r2{9, -1, std::nullopt, std::nullopt, {}};  // gap 6..8, tombstone, no key
  return {
      ProduceResponse{7, 1},
      FetchResponse{{"a", "", "ccc"}, 10},
      FetchResponse{{}, 3},
      OffsetCommitResponse{true},
      OffsetCommitResponse{false},
      OffsetFetchResponse{42},
      OffsetFetchResponse{std::nullopt},
      CreateTopicResponse{true},
      ListTopicsResponse{{{"a", 1}, {"b", 16}}},
      ListTopicsResponse{},
      DescribeTopicResponse{"t", 2, {{0, 10}, {1, 0}}},
      DescribePartitionResponse{"t", 1, kMaxU64},
      MetricsResponse{"rustlog_bytes_in 12\n"},
      ErrorResponse{ErrorCode::kTopicNotFound, "topic 'x' not found"},
      ErrorResponse{static_cast<ErrorCode>(999), ""},
      PongResponse{},
      HandshakeResponse{"rustlog/0.1.0", kDefaultMaxFrameBytes,
                        {supported_request_types().begin(), supported_request_types().end()}},
      ProduceExResponse{100, 3, 1'700'000'000'000'123},
      FetchExResponse{10, 2, {r1, r2}, 10},
      FetchExResponse{0, 0, {}, 0},
      ListOffsetsResponse{55, true},
      ListOffsetsResponse{99, false},
      CreateTopicExResponse{},
      DescribeTopicConfigResponse{2, {{"retention.ms", "-1"}}, {{0, 0, 5, 1, 1024}, {1, 3, 9, 2, 4096}}},
      DeleteTopicResponse{},
      ListGroupsResponse{{"g1", "g2"}},
      DescribeGroupResponse{{{"t", 0, 5, 9, 4}, {"u", 1, 0, 0, 0}}},
      DeleteGroupResponse{},
      ProduceBatchResponse{{200, 50, 1'700'000'000'000'456}},
  };
}

std::string request_payload(const Request& req) {
  std::string frame;
  EXPECT_TRUE(encode_request(req, frame).is_ok());
  return frame.substr(kFrameHeaderBytes);
}

std::string response_payload(const Response& resp) {
  std::string frame;
  EXPECT_TRUE(encode_response(resp, frame).is_ok());
  return frame.substr(kFrameHeaderBytes);
}

std::string bytes(std::initializer_list<int> b) {
  std::string s;
  for (int v : b) s.push_back(static_cast<char>(v));
  return s;
}

void expect_invalid(const Result<Request>& r, const std::string& fragment) {
  ASSERT_FALSE(r.is_ok());
  EXPECT_EQ(r.status().code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(r.status().message().find(fragment), std::string::npos) << r.status().message();
}

TEST(ProtocolCodecTest, SamplesCoverEveryMessageType) {
  std::set<size_t> req_kinds, resp_kinds;
  for (const Request& r : sample_requests()) req_kinds.insert(r.index());
  for (const Response& r : sample_responses()) resp_kinds.insert(r.index());
  EXPECT_EQ(req_kinds.size(), std::variant_size_v<Request>);
  EXPECT_EQ(resp_kinds.size(), std::variant_size_v<Response>);
  EXPECT_EQ(supported_request_types().size(), std::variant_size_v<Request>);
}

TEST(ProtocolCodecTest, EveryRequestRoundTrips) {
  for (const Request& req : sample_requests()) {
    std::string frame;
    ASSERT_TRUE(encode_request(req, frame).is_ok()) << message_type_name(type_of(req));
    // The length prefix counts the payload only.
    ASSERT_EQ(frame.size() - kFrameHeaderBytes,
              (uint32_t{uint8_t(frame[0])} << 24) | (uint32_t{uint8_t(frame[1])} << 16) |
                  (uint32_t{uint8_t(frame[2])} << 8) | uint32_t{uint8_t(frame[3])});
    EXPECT_EQ(uint8_t(frame[4]), static_cast<uint8_t>(type_of(req)));
    Result<Request> back = decode_request(std::string_view(frame).substr(kFrameHeaderBytes));
    ASSERT_TRUE(back.is_ok()) << back.status().to_string();
    EXPECT_TRUE(*back == req) << message_type_name(type_of(req));
  }
}

TEST(ProtocolCodecTest, EveryResponseRoundTrips) {
  for (const Response& resp : sample_responses()) {
    const std::string payload = response_payload(resp);
    EXPECT_EQ(uint8_t(payload[0]), static_cast<uint8_t>(type_of(resp)));
    Result<Response> back = decode_response(payload);
    ASSERT_TRUE(back.is_ok()) << back.status().to_string();
    EXPECT_TRUE(*back == resp) << message_type_name(type_of(resp));
  }
}

TEST(ProtocolCodecTest, EveryTruncationOfEveryRequestIsRejectedWith400) {
  for (const Request& req : sample_requests()) {
    const std::string payload = request_payload(req);
    for (size_t len = 0; len < payload.size(); ++len) {
      Result<Request> r = decode_request(std::string_view(payload).substr(0, len));
      ASSERT_FALSE(r.is_ok()) << message_type_name(type_of(req)) << " prefix " << len;
      EXPECT_EQ(r.status().code(), ErrorCode::kInvalidRequest);
    }
  }
}

TEST(ProtocolCodecTest, EveryTruncationOfEveryResponseIsRejectedWith400) {
  for (const Response& resp : sample_responses()) {
    const std::string payload = response_payload(resp);
    for (size_t len = 0; len < payload.size(); ++len) {
      Result<Response> r = decode_response(std::string_view(payload).substr(0, len));
      ASSERT_FALSE(r.is_ok()) << message_type_name(type_of(resp)) << " prefix " << len;
      EXPECT_EQ(r.status().code(), ErrorCode::kInvalidRequest);
    }
  }
}

TEST(ProtocolCodecTest, TrailingBytesAreRejected) {
  for (const Request& req : sample_requests()) {
    expect_invalid(decode_request(request_payload(req) + '\0'), "1 trailing bytes");
  }
  for (const Response& resp : sample_responses()) {
    EXPECT_FALSE(decode_response(response_payload(resp) + "xy").is_ok());
  }
}

TEST(ProtocolCodecTest, EmptyPayloadIsRejected) {
  expect_invalid(decode_request(""), "missing the type byte");
  EXPECT_FALSE(decode_response("").is_ok());
}

TEST(ProtocolCodecTest, UnknownRequestTypeIsRejected) {
  std::set<int> known;
  for (MessageType t : supported_request_types()) known.insert(static_cast<int>(t));
  for (int type = 0; type < 256; ++type) {
    if (known.count(type)) continue;
    char buf[5];
    std::snprintf(buf, sizeof buf, "0x%02X", type);
    expect_invalid(decode_request(bytes({type})), std::string("unknown request type ") + buf);
  }
  // 0xFE (Error) is a response only.
  expect_invalid(decode_request(bytes({0xFE, 0, 0, 0, 0})), "unknown request type 0xFE");
  EXPECT_FALSE(decode_response(bytes({0x42})).is_ok());
}

TEST(ProtocolCodecTest, TruncationErrorNamesMessageFieldAndPosition) {
  // Produce: topic "t", then only 2 of the partition's 4 bytes.
  expect_invalid(decode_request(bytes({0x01, 0, 1, 't', 0, 0})),
                 "invalid Produce request: field 'partition' truncated at byte 4: needs 4 "
                 "bytes, 2 left");
}

TEST(ProtocolCodecTest, StringLengthPastTheEndIsRejected) {
  expect_invalid(decode_request(bytes({0x07, 0, 5, 'a', 'b'})), "field 'topic' truncated");
  expect_invalid(decode_request(bytes({0x07, 0xFF, 0xFF})), "field 'topic' truncated");
}

TEST(ProtocolCodecTest, InvalidUtf8OrNulInStringsIsRejected) {
  expect_invalid(decode_request(bytes({0x07, 0, 1, 0x00})), "not valid UTF-8 or contains a NUL");
  expect_invalid(decode_request(bytes({0x07, 0, 1, 0xC3})), "not valid UTF-8");
  expect_invalid(decode_request(bytes({0x07, 0, 2, 0xC0, 0x80})), "not valid UTF-8");  // overlong
  expect_invalid(decode_request(bytes({0x07, 0, 3, 0xED, 0xA0, 0x80})), "not valid UTF-8");
  EXPECT_TRUE(decode_request(bytes({0x07, 0, 2, 0xC3, 0xB4})).is_ok());  // "ô"
}

TEST(ProtocolCodecTest, CountExceedingRemainingBytesIsRejectedBeforeAllocating) {
  // Produce "t"/0 claiming 2^32-1 records in 4 remaining bytes: must not reserve.
  expect_invalid(decode_request(bytes({0x01, 0, 1, 't', 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 0,
                                       0, 0, 0})),
                 "claims 4294967295 elements of at least 4 bytes, but only 4 bytes remain");
  // ProduceEx: 1 record needs at least 20 bytes; 19 present.
  std::string p = bytes({0x11, 0, 1, 't', 0, 0, 0, 0});
  p += std::string(8, '\xFF') + bytes({0, 0, 0, 1}) + std::string(19, '\0');
  expect_invalid(decode_request(p), "'record_count' at byte 16 claims 1 elements of at least 20");
  // CreateTopicEx config count.
  expect_invalid(decode_request(bytes({0x14, 0, 1, 'c', 0, 0, 0, 1, 0x10, 0, 0, 0, 0, 0})),
                 "'config_count'");
}

TEST(ProtocolCodecTest, NullableLengthBelowMinusOneIsRejected) {
  std::string p = request_payload(ProduceExRequest{"t", 0, -1, {ProducerRecord{}}});
  // Key length sits after type(1) topic(3) partition(4) ts(8) count(4) record ts(8).
  const size_t key_len_at = 1 + 3 + 4 + 8 + 4 + 8;
  ASSERT_EQ(p.substr(key_len_at, 4), bytes({0xFF, 0xFF, 0xFF, 0xFF}));
  p[key_len_at + 3] = '\xFE';  // -2
  expect_invalid(decode_request(p), "field 'key' at byte 28 has length -2");
}

TEST(ProtocolCodecTest, NullAndEmptyKeysAndValuesStayDistinct) {
  ProduceExRequest req{"t", 0, -1, {{-1, std::nullopt, std::string()}, {-1, std::string(), std::nullopt}}};
  Result<Request> back = decode_request(request_payload(req));
  ASSERT_TRUE(back.is_ok());
  const auto& got = std::get<ProduceExRequest>(*back);
  EXPECT_FALSE(got.records[0].key.has_value());
  EXPECT_EQ(got.records[0].value, std::string());
  EXPECT_EQ(got.records[1].key, std::string());
  EXPECT_FALSE(got.records[1].value.has_value());
}

TEST(ProtocolCodecTest, ProducerTimestampBelowMinusOneIsRejected) {
  std::string p = request_payload(ProduceExRequest{"t", 0, -1, {}});
  p[1 + 3 + 4 + 7] = '\xFE';  // batch timestamp -2
  expect_invalid(decode_request(p), "field 'timestamp_us' -2 must be -1");
  std::string q = request_payload(ProduceExRequest{"t", 0, -1, {ProducerRecord{}}});
  q[1 + 3 + 4 + 8 + 4 + 7] = '\xF0';
  expect_invalid(decode_request(q), "field 'record timestamp_us' -16 must be -1");
  std::string out;
  EXPECT_EQ(encode_request(ProduceExRequest{"t", 0, -5, {}}, out).code(),
            ErrorCode::kInvalidRequest);
  EXPECT_TRUE(out.empty());
}

TEST(ProtocolCodecTest, ListOffsetsSpecBelowMinusTwoIsRejected) {
  std::string p = request_payload(ListOffsetsRequest{"t", 0, kListOffsetsEarliest});
  p.back() = '\xFD';  // -3
  expect_invalid(decode_request(p), "field 'spec' -3 must be -2 (earliest)");
}

TEST(ProtocolCodecTest, BooleanFieldsMustBeZeroOrOne) {
  EXPECT_FALSE(decode_response(bytes({0x03, 2})).is_ok());
  EXPECT_FALSE(decode_response(bytes({0x04, 7, 0, 0, 0, 0, 0, 0, 0, 1})).is_ok());
  EXPECT_TRUE(decode_response(bytes({0x04, 0})).is_ok());  // has_offset 0: no offset field
}

TEST(ProtocolCodecTest, EffectiveTimestampPrefersRecordThenBatchThenAppendTime) {
  ProduceExRequest req{"t", 0, 100, {}};
  EXPECT_EQ(effective_timestamp(req, ProducerRecord{5}, 999), 5);
  EXPECT_EQ(effective_timestamp(req, ProducerRecord{-1}, 999), 100);
  req.timestamp_us = -1;
  EXPECT_EQ(effective_timestamp(req, ProducerRecord{-1}, 999), 999);
}

TEST(ProtocolCodecTest, EncodeRequestRejectsUnrepresentableFieldsAndLeavesOutUnchanged) {
  std::string out = "prefix";
  Status st = encode_request(DescribeTopicRequest{std::string(70000, 'a')}, out);
  EXPECT_EQ(st.code(), ErrorCode::kInvalidRequest);
  EXPECT_NE(st.message().find("65535"), std::string::npos) << st.message();
  EXPECT_EQ(out, "prefix");
  EXPECT_EQ(encode_request(DescribeTopicRequest{std::string("a\0b", 3)}, out).code(),
            ErrorCode::kInvalidRequest);
  EXPECT_EQ(out, "prefix");
}

TEST(ProtocolCodecTest, EncodeResponseAboveMaxFrameFailsWith413) {
  std::string out;
  FetchResponse big{{std::string(2000, 'x')}, 1};
  EXPECT_EQ(encode_response(big, out, 1000).code(), ErrorCode::kTooLarge);
  EXPECT_TRUE(out.empty());
  EXPECT_EQ(encode_response(MetricsResponse{std::string("\xff", 1)}, out).code(),
            ErrorCode::kOk);  // metrics text is bytes, not a checked string
  out.clear();
  EXPECT_EQ(encode_response(ErrorResponse{ErrorCode::kInternal, std::string(70000, 'e')}, out)
                .code(),
            ErrorCode::kInternal);
  // The exact boundary: payload == max is fine.
  const std::string exact = response_payload(big);
  EXPECT_TRUE(encode_response(big, out, static_cast<uint32_t>(exact.size())).is_ok());
  EXPECT_EQ(encode_response(big, out, static_cast<uint32_t>(exact.size() - 1)).code(),
            ErrorCode::kTooLarge);
}

TEST(ProtocolCodecTest, EncodersAppendSoResponsesCanBePipelined) {
  std::string out;
  ASSERT_TRUE(encode_response(PongResponse{}, out).is_ok());
  ASSERT_TRUE(encode_response(ProduceResponse{7, 1}, out).is_ok());
  out += encode_error(ErrorCode::kTopicNotFound, "no");
  EXPECT_EQ(out.size(), 5u + 17u + 11u);
}

TEST(ProtocolCodecTest, EncodeErrorNeverFailsAndSanitizesTheMessage) {
  const std::string frame = encode_error(ErrorCode::kCorruptRecord, std::string("a\xff\0b", 4));
  Result<Response> r = decode_response(std::string_view(frame).substr(4));
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(std::get<ErrorResponse>(*r), (ErrorResponse{ErrorCode::kCorruptRecord, "a??b"}));

  const std::string long_frame = encode_error(Status(ErrorCode::kInternal, std::string(70000, 'e')));
  Result<Response> l = decode_response(std::string_view(long_frame).substr(4));
  ASSERT_TRUE(l.is_ok());
  EXPECT_EQ(std::get<ErrorResponse>(*l).message.size(), 65535u);
  EXPECT_EQ(std::get<ErrorResponse>(*l).code, ErrorCode::kInternal);
}

TEST(ProtocolCodecTest, ErrorCodesKeepTheirWireNumbers) {
  const std::pair<ErrorCode, int> table[] = {
      {ErrorCode::kInvalidRequest, 400}, {ErrorCode::kTopicNotFound, 404},
      {ErrorCode::kPartitionNotFound, 405}, {ErrorCode::kTopicExists, 409},
      {ErrorCode::kTooLarge, 413}, {ErrorCode::kOffsetOutOfRange, 416},
      {ErrorCode::kInternal, 500}, {ErrorCode::kCorruptRecord, 502},
      {ErrorCode::kStorageError, 503}, {ErrorCode::kInsufficientSpace, 507},
      {ErrorCode::kTimedOut, 408},      {ErrorCode::kBufferFull, 429},
      {ErrorCode::kGroupNotFound, 406}, {ErrorCode::kInvalidConfig, 422},
      {ErrorCode::kListenFailed, 423},  {ErrorCode::kTransport, 520},
  };
  for (const auto& [code, number] : table) {
    EXPECT_EQ(encode_error(code, ""), bytes({0, 0, 0, 5, 0xFE, number >> 8, number & 0xFF, 0, 0}))
        << number;
  }
}

}  // namespace
}  // namespace rustlog::protocol
