// Byte-for-byte layouts: the v0 worked example of docs/PROTOCOL.md, every v0 request and
// response built by hand from the v0 tables of docs/PROTOCOL.md, and the hex examples of the
// extended messages quoted in docs/PROTOCOL.md.
#include <gtest/gtest.h>

#include <cctype>
#include <string>

#include "protocol/codec.h"

namespace rustlog::protocol {
namespace {

// "00 00 00 12  01 ..." -> bytes; whitespace is ignored.
std::string from_hex(std::string_view hex) {
  std::string out;
  int hi = -1;
  for (char c : hex) {
    if (std::isspace(static_cast<unsigned char>(c))) continue;
    const int v = std::isdigit(static_cast<unsigned char>(c)) ? c - '0'
                                                               : std::tolower(c) - 'a' + 10;
    if (hi < 0) {
      hi = v;
    } else {
      out.push_back(static_cast<char>(hi * 16 + v));
      hi = -1;
    }
  }
  return out;
}

// The request frame decodes to `req` (through FrameDecoder, as the broker reads
// it) and `req` encodes to exactly the frame.
void expect_request_bytes(const Request& req, std::string_view hex) {
  const std::string frame = from_hex(hex);
  FrameDecoder dec;
  dec.feed(frame);
  auto payload = dec.next();
  ASSERT_TRUE(payload.is_ok() && payload->has_value()) << hex;
  Result<Request> got = decode_request(**payload);
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  EXPECT_TRUE(*got == req) << message_type_name(type_of(req));
  std::string encoded;
  ASSERT_TRUE(encode_request(req, encoded).is_ok());
  EXPECT_EQ(encoded, frame) << message_type_name(type_of(req));
}

void expect_response_bytes(const Response& resp, std::string_view hex) {
  const std::string frame = from_hex(hex);
  std::string encoded;
  ASSERT_TRUE(encode_response(resp, encoded).is_ok());
  EXPECT_EQ(encoded, frame) << message_type_name(type_of(resp));
  Result<Response> got = decode_response(std::string_view(frame).substr(kFrameHeaderBytes));
  ASSERT_TRUE(got.is_ok()) << got.status().to_string();
  EXPECT_TRUE(*got == resp) << message_type_name(type_of(resp));
}

// ------------------------------------------------------ v0 worked example

TEST(ProtocolGoldenTest, WireV0WorkedExampleRequestDecodes) {
  expect_request_bytes(ProduceRequest{"t", 0, {"hi"}},
                       "00 00 00 12  01  00 01 74  00 00 00 00  00 00 00 01  00 00 00 02 68 69");
}

TEST(ProtocolGoldenTest, WireV0WorkedExampleResponseEncodes) {
  expect_response_bytes(ProduceResponse{7, 1},
                        "00 00 00 0d  01  00 00 00 00 00 00 00 07  00 00 00 01");
}

// ------------------------------------------------------------- v0 requests

TEST(ProtocolGoldenTest, V0RequestLayouts) {
  expect_request_bytes(FetchRequest{"g", "t", 1, 7, 256},
                       "00 00 00 17 02  00 01 67  00 01 74  00 00 00 01"
                       "  00 00 00 00 00 00 00 07  00 00 01 00");
  expect_request_bytes(FetchRequest{"", "t", 0, 0, 1},  // empty group_id
                       "00 00 00 16 02  00 00  00 01 74  00 00 00 00"
                       "  00 00 00 00 00 00 00 00  00 00 00 01");
  expect_request_bytes(OffsetCommitRequest{"g", "t", 2, 9},
                       "00 00 00 13 03  00 01 67  00 01 74  00 00 00 02"
                       "  00 00 00 00 00 00 00 09");
  expect_request_bytes(OffsetFetchRequest{"g", "t", 2},
                       "00 00 00 0b 04  00 01 67  00 01 74  00 00 00 02");
  expect_request_bytes(CreateTopicRequest{"t", 4}, "00 00 00 08 05  00 01 74  00 00 00 04");
  expect_request_bytes(ListTopicsRequest{}, "00 00 00 01 06");
  expect_request_bytes(DescribeTopicRequest{"t"}, "00 00 00 04 07  00 01 74");
  expect_request_bytes(DescribePartitionRequest{"t", 3},
                       "00 00 00 08 08  00 01 74  00 00 00 03");
  expect_request_bytes(MetricsFetchRequest{}, "00 00 00 01 09");
  expect_request_bytes(PingRequest{}, "00 00 00 01 ff");
  expect_request_bytes(ProduceRequest{"t", 1, {"a", ""}},
                       "00 00 00 15 01  00 01 74  00 00 00 01  00 00 00 02"
                       "  00 00 00 01 61  00 00 00 00");
}

// ------------------------------------------------------------ v0 responses

TEST(ProtocolGoldenTest, V0ResponseLayouts) {
  expect_response_bytes(FetchResponse{{"a", "bc"}, 9},
                        "00 00 00 18 02  00 00 00 02  00 00 00 01 61  00 00 00 02 62 63"
                        "  00 00 00 00 00 00 00 09");
  expect_response_bytes(FetchResponse{{}, 5},
                        "00 00 00 0d 02  00 00 00 00  00 00 00 00 00 00 00 05");
  expect_response_bytes(OffsetCommitResponse{true}, "00 00 00 02 03 01");
  expect_response_bytes(OffsetCommitResponse{false}, "00 00 00 02 03 00");
  // has_offset = 1: the offset follows; has_offset = 0: nothing follows.
  expect_response_bytes(OffsetFetchResponse{42}, "00 00 00 0a 04 01  00 00 00 00 00 00 00 2a");
  expect_response_bytes(OffsetFetchResponse{std::nullopt}, "00 00 00 02 04 00");
  expect_response_bytes(CreateTopicResponse{true}, "00 00 00 02 05 01");
  expect_response_bytes(ListTopicsResponse{{{"a", 1}, {"bb", 2}}},
                        "00 00 00 14 06  00 00 00 02  00 01 61 00 00 00 01"
                        "  00 02 62 62 00 00 00 02");
  expect_response_bytes(DescribeTopicResponse{"t", 2, {{0, 5}, {1, 0}}},
                        "00 00 00 24 07  00 01 74  00 00 00 02  00 00 00 02"
                        "  00 00 00 00  00 00 00 00 00 00 00 05"
                        "  00 00 00 01  00 00 00 00 00 00 00 00");
  expect_response_bytes(DescribePartitionResponse{"t", 1, 3},
                        "00 00 00 10 08  00 01 74  00 00 00 01  00 00 00 00 00 00 00 03");
  expect_response_bytes(MetricsResponse{"m 1\n"}, "00 00 00 09 09  00 00 00 04 6d 20 31 0a");
  expect_response_bytes(ErrorResponse{ErrorCode::kTopicNotFound, "no topic t"},
                        "00 00 00 0f fe  01 94  00 0a 6e 6f 20 74 6f 70 69 63 20 74");
  expect_response_bytes(PongResponse{}, "00 00 00 01 ff");
  EXPECT_EQ(encode_error(ErrorCode::kTopicNotFound, "no topic t"),
            from_hex("00 00 00 0f fe 01 94 00 0a 6e 6f 20 74 6f 70 69 63 20 74"));
}

// ------------------------------------------- extended (docs/PROTOCOL.md examples)

TEST(ProtocolGoldenTest, HandshakeExample) {
  expect_request_bytes(HandshakeRequest{"cli/1"}, "00 00 00 08 10 00 05 63 6c 69 2f 31");
  expect_response_bytes(
      HandshakeResponse{"rl/1", kDefaultMaxFrameBytes, {MessageType::kProduce, MessageType::kPing}},
      "00 00 00 11 10 00 04 72 6c 2f 31 00 a0 00 00 00 00 00 02 01 ff");
}

TEST(ProtocolGoldenTest, ProduceExExample) {
  expect_request_bytes(
      ProduceExRequest{"t", 0, -1, {ProducerRecord{-1, "k", "v", {{"h", "x"}}}}},
      "00 00 00 32 11 00 01 74 00 00 00 00 ff ff ff ff ff ff ff ff 00 00 00 01"
      " ff ff ff ff ff ff ff ff 00 00 00 01 6b 00 00 00 01 76 00 00 00 01 00 01 68"
      " 00 00 00 01 78");
  expect_response_bytes(ProduceExResponse{7, 1, 1'700'000'000'000'000},
                        "00 00 00 15 11 00 00 00 00 00 00 00 07 00 00 00 01"
                        " 00 06 0a 24 18 1e 40 00");
}

TEST(ProtocolGoldenTest, ProduceBatchExample) {
  // The batch travels as `bytes`; its own layout is docs/STORAGE.md's.
  expect_request_bytes(ProduceBatchRequest{"t", 0, "ab"},
                       "00 00 00 0e 1a 00 01 74 00 00 00 00 00 00 00 02 61 62");
  expect_response_bytes(ProduceBatchResponse{{7, 1, 1'700'000'000'000'000}},
                        "00 00 00 15 1a 00 00 00 00 00 00 00 07 00 00 00 01"
                        " 00 06 0a 24 18 1e 40 00");
}

TEST(ProtocolGoldenTest, FetchExExample) {
  expect_request_bytes(FetchExRequest{"t", 0, 5, 1048576, 100, 1},
                       "00 00 00 1c 12 00 01 74 00 00 00 00 00 00 00 00 00 00 00 05"
                       " 00 10 00 00 00 00 00 64 00 00 00 01");
  expect_response_bytes(
      FetchExResponse{9, 0, {Record{7, 1'700'000'000'000'000, std::nullopt, "v", {}}}, 8},
      "00 00 00 3a 12 00 00 00 00 00 00 00 09 00 00 00 00 00 00 00 00 00 00 00 01"
      " 00 00 00 00 00 00 00 07 00 06 0a 24 18 1e 40 00 ff ff ff ff 00 00 00 01 76"
      " 00 00 00 00 00 00 00 00 00 00 00 08");
}

TEST(ProtocolGoldenTest, ListOffsetsExample) {
  expect_request_bytes(ListOffsetsRequest{"t", 0, kListOffsetsEarliest},
                       "00 00 00 10 13 00 01 74 00 00 00 00 ff ff ff ff ff ff ff fe");
  expect_response_bytes(ListOffsetsResponse{0, true},
                        "00 00 00 0a 13 00 00 00 00 00 00 00 00 01");
}

TEST(ProtocolGoldenTest, CreateTopicExExample) {
  expect_request_bytes(CreateTopicExRequest{"t", 3, {{"cleanup.policy", "compact"}}},
                       "00 00 00 25 14 00 01 74 00 00 00 03 00 00 00 01 00 0e 63 6c 65 61 6e"
                       " 75 70 2e 70 6f 6c 69 63 79 00 07 63 6f 6d 70 61 63 74");
  expect_response_bytes(CreateTopicExResponse{}, "00 00 00 01 14");
}

TEST(ProtocolGoldenTest, DescribeTopicConfigExample) {
  expect_request_bytes(DescribeTopicConfigRequest{"t"}, "00 00 00 04 15 00 01 74");
  expect_response_bytes(
      DescribeTopicConfigResponse{1, {{"flush", "never"}}, {{0, 0, 9, 1, 4096}}},
      "00 00 00 3b 15 00 00 00 01 00 00 00 01 00 05 66 6c 75 73 68 00 05 6e 65 76 65 72 00 00 00 01"
      " 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 09 00 00 00 01"
      " 00 00 00 00 00 00 10 00");
}

TEST(ProtocolGoldenTest, DeleteTopicExample) {
  expect_request_bytes(DeleteTopicRequest{"t"}, "00 00 00 04 16 00 01 74");
  expect_response_bytes(DeleteTopicResponse{}, "00 00 00 01 16");
}

TEST(ProtocolGoldenTest, ListGroupsExample) {
  expect_request_bytes(ListGroupsRequest{}, "00 00 00 01 17");
  expect_response_bytes(ListGroupsResponse{{"g"}}, "00 00 00 08 17 00 00 00 01 00 01 67");
}

TEST(ProtocolGoldenTest, DescribeGroupExample) {
  expect_request_bytes(DescribeGroupRequest{"g"}, "00 00 00 04 18 00 01 67");
  expect_response_bytes(DescribeGroupResponse{{{"t", 0, 5, 9, 4}}},
                        "00 00 00 24 18 00 00 00 01 00 01 74 00 00 00 00 00 00 00 00 00 00 00 05"
                        " 00 00 00 00 00 00 00 09 00 00 00 00 00 00 00 04");
}

TEST(ProtocolGoldenTest, DeleteGroupExample) {
  expect_request_bytes(DeleteGroupRequest{"g"}, "00 00 00 04 19 00 01 67");
  expect_response_bytes(DeleteGroupResponse{}, "00 00 00 01 19");
}

}  // namespace
}  // namespace rustlog::protocol
