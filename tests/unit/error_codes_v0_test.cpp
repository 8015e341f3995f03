// The v0 error codes (protocol/error_codes_v0.h): the table of
// docs/PROTOCOL.md "Error codes of legacy connections", which table a
// connection gets, and the Error frame's bytes.
#include "protocol/error_codes_v0.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "protocol/codec.h"
#include "protocol/message_type.h"

namespace rustlog::protocol {
namespace {

uint8_t t(MessageType m) { return static_cast<uint8_t>(m); }
uint16_t code(V0Code c) { return static_cast<uint16_t>(c); }

TEST(ErrorCodesV0, TheOriginalBrokersNumbers) {
  EXPECT_EQ(code(V0Code::kStorageError), 4);
  EXPECT_EQ(code(V0Code::kOffsetCommitRefused), 5);
  EXPECT_EQ(code(V0Code::kNotFound), 10);
  EXPECT_EQ(code(V0Code::kTopicExists), 11);
  EXPECT_EQ(code(V0Code::kInvalidPartitionCount), 12);
  EXPECT_EQ(code(V0Code::kTopicNotFound), 13);
  EXPECT_EQ(code(V0Code::kPartitionNotFound), 14);
  EXPECT_EQ(code(V0Code::kInternal), 500);
  // Ours, for failures the original had no code for.
  EXPECT_EQ(code(V0Code::kFrameTooLarge), 15);
  EXPECT_EQ(code(V0Code::kMalformedRequest), 16);
  EXPECT_EQ(code(V0Code::kOffsetOutOfRange), 17);
  EXPECT_EQ(code(V0Code::kReadOnly), 18);
  EXPECT_EQ(code(V0Code::kDiskFull), 19);
}

TEST(ErrorCodesV0, NoCodeCollidesWithAnExtendedCodeOfAnotherMeaning) {
  const std::vector<V0Code> all = {V0Code::kStorageError,     V0Code::kOffsetCommitRefused, V0Code::kNotFound,
                                   V0Code::kTopicExists,      V0Code::kInvalidPartitionCount,
                                   V0Code::kTopicNotFound,    V0Code::kPartitionNotFound,   V0Code::kInternal,
                                   V0Code::kFrameTooLarge,    V0Code::kMalformedRequest,    V0Code::kOffsetOutOfRange,
                                   V0Code::kReadOnly,         V0Code::kDiskFull};
  std::set<uint16_t> seen;
  for (V0Code c : all) {
    EXPECT_TRUE(seen.insert(code(c)).second) << code(c);
    EXPECT_STRNE(v0_code_name(code(c)), "Unknown") << code(c);
    // Only 500 is shared, with the same meaning.
    if (c != V0Code::kInternal) {
      EXPECT_STREQ(error_code_name(static_cast<ErrorCode>(code(c))), "Unknown") << code(c);
    }
  }
}

struct Case {
  MessageType type;
  ErrorCode error;
  V0Code want;
};

TEST(ErrorCodesV0, EachFailureOfEachV0RequestGetsItsCode) {
  const std::vector<Case> cases = {
      {MessageType::kProduce, ErrorCode::kTopicNotFound, V0Code::kNotFound},
      {MessageType::kProduce, ErrorCode::kPartitionNotFound, V0Code::kNotFound},
      {MessageType::kProduce, ErrorCode::kInvalidRequest, V0Code::kMalformedRequest},
      {MessageType::kProduce, ErrorCode::kTooLarge, V0Code::kFrameTooLarge},
      {MessageType::kProduce, ErrorCode::kStorageError, V0Code::kReadOnly},
      {MessageType::kProduce, ErrorCode::kInsufficientSpace, V0Code::kDiskFull},
      {MessageType::kProduce, ErrorCode::kInternal, V0Code::kInternal},
      {MessageType::kFetch, ErrorCode::kTopicNotFound, V0Code::kNotFound},
      {MessageType::kFetch, ErrorCode::kPartitionNotFound, V0Code::kNotFound},
      {MessageType::kFetch, ErrorCode::kOffsetOutOfRange, V0Code::kOffsetOutOfRange},
      {MessageType::kFetch, ErrorCode::kStorageError, V0Code::kStorageError},
      {MessageType::kFetch, ErrorCode::kCorruptRecord, V0Code::kStorageError},
      {MessageType::kFetch, ErrorCode::kTooLarge, V0Code::kFrameTooLarge},
      {MessageType::kOffsetCommit, ErrorCode::kTopicNotFound, V0Code::kOffsetCommitRefused},
      {MessageType::kOffsetCommit, ErrorCode::kOffsetOutOfRange, V0Code::kOffsetCommitRefused},
      {MessageType::kOffsetCommit, ErrorCode::kInvalidRequest, V0Code::kOffsetCommitRefused},
      {MessageType::kOffsetCommit, ErrorCode::kStorageError, V0Code::kOffsetCommitRefused},
      {MessageType::kOffsetCommit, ErrorCode::kInternal, V0Code::kInternal},
      {MessageType::kOffsetFetch, ErrorCode::kTopicNotFound, V0Code::kNotFound},
      {MessageType::kOffsetFetch, ErrorCode::kPartitionNotFound, V0Code::kNotFound},
      {MessageType::kCreateTopic, ErrorCode::kTopicExists, V0Code::kTopicExists},
      {MessageType::kCreateTopic, ErrorCode::kInvalidRequest, V0Code::kMalformedRequest},
      {MessageType::kCreateTopic, ErrorCode::kStorageError, V0Code::kStorageError},
      {MessageType::kDescribeTopic, ErrorCode::kTopicNotFound, V0Code::kTopicNotFound},
      {MessageType::kDescribePartition, ErrorCode::kTopicNotFound, V0Code::kPartitionNotFound},
      {MessageType::kDescribePartition, ErrorCode::kPartitionNotFound, V0Code::kPartitionNotFound},
      {MessageType::kPing, ErrorCode::kInvalidRequest, V0Code::kMalformedRequest},
      // No request type: a framing error.
      {static_cast<MessageType>(0), ErrorCode::kTooLarge, V0Code::kFrameTooLarge},
      {static_cast<MessageType>(0), ErrorCode::kInvalidRequest, V0Code::kMalformedRequest},
  };
  for (const Case& c : cases)
    EXPECT_EQ(code(v0_code(t(c.type), c.error)), code(c.want))
        << message_type_name(c.type) << " " << error_code_name(c.error);
}

TEST(ErrorCodesV0, OnlyALegacyConnectionsV0RequestsAndFramingErrorsUseTheV0Table) {
  for (int type = 0; type < 256; ++type) {
    const bool extended = type >= 0x10 && type <= 0x1A;
    EXPECT_EQ(uses_v0_codes(static_cast<uint8_t>(type), false), !extended) << type;
    EXPECT_FALSE(uses_v0_codes(static_cast<uint8_t>(type), true)) << type;
  }
  EXPECT_TRUE(is_v0_request(t(MessageType::kProduce)));
  EXPECT_TRUE(is_v0_request(t(MessageType::kMetricsFetch)));
  EXPECT_TRUE(is_v0_request(t(MessageType::kPing)));
  EXPECT_FALSE(is_v0_request(t(MessageType::kHandshake)));
  EXPECT_FALSE(is_v0_request(0x0A));
}

// The Error frame: u32 length, 0xFE, u16 code, string message.
TEST(ErrorCodesV0, ErrorFramesCarryTheV0CodeOnALegacyConnection) {
  const Status not_found(ErrorCode::kTopicNotFound, "no topic t");
  // Legacy connection, v0 Fetch: code 10 = 0x000a.
  EXPECT_EQ(encode_error_for(t(MessageType::kFetch), false, not_found),
            std::string("\x00\x00\x00\x0f\xfe\x00\x0a\x00\x0ano topic t", 19));
  // DescribeTopic: 13 = 0x000d.
  EXPECT_EQ(encode_error_for(t(MessageType::kDescribeTopic), false, not_found),
            std::string("\x00\x00\x00\x0f\xfe\x00\x0d\x00\x0ano topic t", 19));
  // After Handshake, or for an extended request: 404 = 0x0194, as encode_error.
  const std::string extended("\x00\x00\x00\x0f\xfe\x01\x94\x00\x0ano topic t", 19);
  EXPECT_EQ(encode_error_for(t(MessageType::kFetch), true, not_found), extended);
  EXPECT_EQ(encode_error_for(t(MessageType::kFetchEx), false, not_found), extended);
  EXPECT_EQ(encode_error(not_found), extended);
  // 500 stays 500 (0x01f4) in both tables.
  EXPECT_EQ(encode_error_for(t(MessageType::kProduce), false, Status(ErrorCode::kInternal, "x")),
            std::string("\x00\x00\x00\x06\xfe\x01\xf4\x00\x01x", 10));
  EXPECT_EQ(encode_v0_error(V0Code::kInvalidPartitionCount, "0"),
            std::string("\x00\x00\x00\x06\xfe\x00\x0c\x00\x01" "0", 10));
  // The frame decodes as an ErrorResponse carrying the number.
  auto r = decode_response(std::string_view(encode_error_for(t(MessageType::kOffsetCommit), false, not_found)).substr(4));
  ASSERT_TRUE(r.is_ok());
  EXPECT_EQ(static_cast<uint16_t>(std::get<ErrorResponse>(*r).code), 5);
}

}  // namespace
}  // namespace rustlog::protocol
