#pragma once
// The type byte that starts every payload. A request and its response share the
// code; Error (0xFE) may answer any request. v0 codes never change shape; new
// capabilities get new codes (0x10 and up).
#include <cstdint>
#include <span>

namespace rustlog::protocol {

enum class MessageType : uint8_t {
  // Legacy v0 (docs/PROTOCOL.md).
  kProduce = 0x01,
  kFetch = 0x02,
  kOffsetCommit = 0x03,
  kOffsetFetch = 0x04,
  kCreateTopic = 0x05,
  kListTopics = 0x06,
  kDescribeTopic = 0x07,
  kDescribePartition = 0x08,
  kMetricsFetch = 0x09,
  // Extended.
  kHandshake = 0x10,
  kProduceEx = 0x11,
  kFetchEx = 0x12,
  kListOffsets = 0x13,
  kCreateTopicEx = 0x14,
  kDescribeTopicConfig = 0x15,
  kDeleteTopic = 0x16,
  kListGroups = 0x17,
  kDescribeGroup = 0x18,
  kDeleteGroup = 0x19,
  kProduceBatch = 0x1A,
  // Responses only / both directions.
  kError = 0xFE,
  kPing = 0xFF,  // request Ping, response Pong
};

// "Produce", "FetchEx", ... ; "Unknown" for codes not listed above.
const char* message_type_name(MessageType type);

// Every request type this codec decodes, in code order (for HandshakeResponse).
std::span<const MessageType> supported_request_types();

}  // namespace rustlog::protocol
