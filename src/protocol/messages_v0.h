#pragma once
// Legacy v0 messages. Their byte layouts are frozen; see the table in
// docs/PROTOCOL.md. Each struct names its type code in kType.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "protocol/message_type.h"
#include "common/status.h"

namespace rustlog::protocol {

// ------------------------------------------------------------------ requests

struct ProduceRequest {
  static constexpr MessageType kType = MessageType::kProduce;
  std::string topic;
  uint32_t partition = 0;
  std::vector<std::string> records;  // values only: v0 has no key, timestamp or headers
  bool operator==(const ProduceRequest&) const = default;
};

// With a non-empty group_id, reading starts at the group's committed offset when
// it has one, else at `offset`.
struct FetchRequest {
  static constexpr MessageType kType = MessageType::kFetch;
  std::string group_id;  // may be empty
  std::string topic;
  uint32_t partition = 0;
  uint64_t offset = 0;
  uint32_t max_bytes = 0;  // soft: at least one record when one exists
  bool operator==(const FetchRequest&) const = default;
};

struct OffsetCommitRequest {
  static constexpr MessageType kType = MessageType::kOffsetCommit;
  std::string group;
  std::string topic;
  uint32_t partition = 0;
  uint64_t offset = 0;  // the next record to read (exclusive)
  bool operator==(const OffsetCommitRequest&) const = default;
};

struct OffsetFetchRequest {
  static constexpr MessageType kType = MessageType::kOffsetFetch;
  std::string group;
  std::string topic;
  uint32_t partition = 0;
  bool operator==(const OffsetFetchRequest&) const = default;
};

struct CreateTopicRequest {
  static constexpr MessageType kType = MessageType::kCreateTopic;
  std::string topic;
  uint32_t partition_count = 0;
  bool operator==(const CreateTopicRequest&) const = default;
};

struct ListTopicsRequest {
  static constexpr MessageType kType = MessageType::kListTopics;
  bool operator==(const ListTopicsRequest&) const = default;
};

struct DescribeTopicRequest {
  static constexpr MessageType kType = MessageType::kDescribeTopic;
  std::string topic;
  bool operator==(const DescribeTopicRequest&) const = default;
};

struct DescribePartitionRequest {
  static constexpr MessageType kType = MessageType::kDescribePartition;
  std::string topic;
  uint32_t partition = 0;
  bool operator==(const DescribePartitionRequest&) const = default;
};

struct MetricsFetchRequest {
  static constexpr MessageType kType = MessageType::kMetricsFetch;
  bool operator==(const MetricsFetchRequest&) const = default;
};

struct PingRequest {
  static constexpr MessageType kType = MessageType::kPing;
  bool operator==(const PingRequest&) const = default;
};

// ----------------------------------------------------------------- responses

struct ProduceResponse {
  static constexpr MessageType kType = MessageType::kProduce;
  uint64_t base_offset = 0;
  uint32_t record_count = 0;
  bool operator==(const ProduceResponse&) const = default;
};

// Values only. next_offset = offset after the last record returned, or the start
// offset when none was. (A null value, a tombstone, has no v0 form; the broker
// decides how to present it.)
struct FetchResponse {
  static constexpr MessageType kType = MessageType::kFetch;
  std::vector<std::string> records;
  uint64_t next_offset = 0;
  bool operator==(const FetchResponse&) const = default;
};

struct OffsetCommitResponse {
  static constexpr MessageType kType = MessageType::kOffsetCommit;
  bool success = false;
  bool operator==(const OffsetCommitResponse&) const = default;
};

// Wire: u8 has_offset, then u64 offset only when has_offset = 1.
struct OffsetFetchResponse {
  static constexpr MessageType kType = MessageType::kOffsetFetch;
  std::optional<uint64_t> offset;
  bool operator==(const OffsetFetchResponse&) const = default;
};

struct CreateTopicResponse {
  static constexpr MessageType kType = MessageType::kCreateTopic;
  bool success = false;
  bool operator==(const CreateTopicResponse&) const = default;
};

struct TopicSummary {
  std::string name;
  uint32_t partition_count = 0;
  bool operator==(const TopicSummary&) const = default;
};

struct ListTopicsResponse {
  static constexpr MessageType kType = MessageType::kListTopics;
  std::vector<TopicSummary> topics;
  bool operator==(const ListTopicsResponse&) const = default;
};

struct PartitionWatermark {
  uint32_t partition = 0;
  uint64_t high_watermark = 0;  // the offset the next produced record will get
  bool operator==(const PartitionWatermark&) const = default;
};

struct DescribeTopicResponse {
  static constexpr MessageType kType = MessageType::kDescribeTopic;
  std::string topic;
  uint32_t partition_count = 0;
  std::vector<PartitionWatermark> partitions;
  bool operator==(const DescribeTopicResponse&) const = default;
};

struct DescribePartitionResponse {
  static constexpr MessageType kType = MessageType::kDescribePartition;
  std::string topic;
  uint32_t partition = 0;
  uint64_t high_watermark = 0;
  bool operator==(const DescribePartitionResponse&) const = default;
};

struct MetricsResponse {
  static constexpr MessageType kType = MessageType::kMetricsFetch;
  std::string text;  // UTF-8, sent as u32 length + bytes
  bool operator==(const MetricsResponse&) const = default;
};

// May answer any request. `code` is any u16 on the wire (see ErrorCode).
struct ErrorResponse {
  static constexpr MessageType kType = MessageType::kError;
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  bool operator==(const ErrorResponse&) const = default;
};

struct PongResponse {
  static constexpr MessageType kType = MessageType::kPing;
  bool operator==(const PongResponse&) const = default;
};

}  // namespace rustlog::protocol
