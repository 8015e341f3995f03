#pragma once
// Extended messages (type codes 0x10 and up). Same primitives as v0: big-endian,
// string = u16 length, bytes = u32 length, nullable bytes = i32 length (-1 = null),
// counts = u32. Byte tables and hex examples: docs/PROTOCOL.md.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "protocol/message_type.h"
#include "common/record.h"

namespace rustlog::protocol {

inline constexpr int64_t kBrokerTimestamp = -1;  // "broker assigns the append time"
inline constexpr int64_t kListOffsetsEarliest = -2;
inline constexpr int64_t kListOffsetsLatest = -1;

// Topic config keys CreateTopicEx may carry. The codec passes pairs through
// unchecked; the broker validates names and values (400 on a bad one).
inline constexpr std::string_view kConfigSegmentBytes = "segment.bytes";
inline constexpr std::string_view kConfigSegmentMs = "segment.ms";
inline constexpr std::string_view kConfigRetentionMs = "retention.ms";
inline constexpr std::string_view kConfigRetentionBytes = "retention.bytes";
inline constexpr std::string_view kConfigCleanupPolicy = "cleanup.policy";  // delete|compact|delete,compact
inline constexpr std::string_view kConfigIndexIntervalBytes = "index.interval.bytes";
inline constexpr std::string_view kConfigFlush = "flush";
inline constexpr std::string_view kConfigCompressionType = "compression.type";  // producer|none|lz4|zstd[:level]

struct ConfigEntry {
  std::string key;
  std::string value;
  bool operator==(const ConfigEntry&) const = default;
};

// ------------------------------------------------------------------ Handshake

struct HandshakeRequest {
  static constexpr MessageType kType = MessageType::kHandshake;
  std::string client_version;
  bool operator==(const HandshakeRequest&) const = default;
};

struct HandshakeResponse {
  static constexpr MessageType kType = MessageType::kHandshake;
  std::string server_version;
  uint32_t max_frame_bytes = 0;
  std::vector<MessageType> supported_types;  // may hold codes this client does not know
  bool operator==(const HandshakeResponse&) const = default;
};

// ------------------------------------------------------------------ ProduceEx

struct ProducerRecord {
  int64_t timestamp_us = kBrokerTimestamp;  // -1: use the batch timestamp
  std::optional<std::string> key;           // null = no key
  std::optional<std::string> value;         // null = tombstone
  std::vector<RecordHeader> headers;
  bool operator==(const ProducerRecord&) const = default;
};

// Timestamps are µs since the Unix epoch; the decoder rejects values below -1.
struct ProduceExRequest {
  static constexpr MessageType kType = MessageType::kProduceEx;
  std::string topic;
  uint32_t partition = 0;
  int64_t timestamp_us = kBrokerTimestamp;  // batch default; -1: broker append time
  std::vector<ProducerRecord> records;
  bool operator==(const ProduceExRequest&) const = default;
};

// The timestamp a record is stored with: its own, else the batch's, else the
// broker's append time.
inline int64_t effective_timestamp(const ProduceExRequest& req, const ProducerRecord& rec,
                                   int64_t append_time_us) {
  if (rec.timestamp_us >= 0) return rec.timestamp_us;
  if (req.timestamp_us >= 0) return req.timestamp_us;
  return append_time_us;
}

// What ProduceEx and ProduceBatch answer.
struct ProduceAnswer {
  uint64_t base_offset = 0;
  uint32_t record_count = 0;
  int64_t append_time_us = 0;
  bool operator==(const ProduceAnswer&) const = default;
};

struct ProduceExResponse : ProduceAnswer {
  static constexpr MessageType kType = MessageType::kProduceEx;
  bool operator==(const ProduceExResponse&) const = default;
};

// --------------------------------------------------------------- ProduceBatch

// One record batch built by the producer (docs/STORAGE.md, section 2), its
// records section compressed or not: the broker checks it and stores it as
// it is, with the base offset it assigns (and, when first_timestamp is -1,
// its append time as every record's timestamp).
struct ProduceBatchRequest {
  static constexpr MessageType kType = MessageType::kProduceBatch;
  std::string topic;
  uint32_t partition = 0;
  std::string batch;
  bool operator==(const ProduceBatchRequest&) const = default;
};

struct ProduceBatchResponse : ProduceAnswer {
  static constexpr MessageType kType = MessageType::kProduceBatch;
  bool operator==(const ProduceBatchResponse&) const = default;
};

// -------------------------------------------------------------------- FetchEx

struct FetchExRequest {
  static constexpr MessageType kType = MessageType::kFetchEx;
  std::string topic;
  uint32_t partition = 0;
  uint64_t offset = 0;
  uint32_t max_bytes = 0;    // soft: at least one record when one exists
  uint32_t max_wait_ms = 0;  // how long to wait for min_bytes; 0 = answer at once
  uint32_t min_bytes = 0;
  bool operator==(const FetchExRequest&) const = default;
};

// Records carry their own offsets: the log may have gaps (compaction).
struct FetchExResponse {
  static constexpr MessageType kType = MessageType::kFetchEx;
  uint64_t high_watermark = 0;
  uint64_t log_start_offset = 0;
  std::vector<Record> records;
  uint64_t next_offset = 0;
  bool operator==(const FetchExResponse&) const = default;
};

// ---------------------------------------------------------------- ListOffsets

struct ListOffsetsRequest {
  static constexpr MessageType kType = MessageType::kListOffsets;
  std::string topic;
  uint32_t partition = 0;
  // -2 earliest, -1 latest, >= 0 a timestamp (µs): the first offset whose record
  // timestamp is >= it. Values below -2 are rejected.
  int64_t spec = kListOffsetsLatest;
  bool operator==(const ListOffsetsRequest&) const = default;
};

// found = false only for a timestamp past every record; offset is then the high
// watermark.
struct ListOffsetsResponse {
  static constexpr MessageType kType = MessageType::kListOffsets;
  uint64_t offset = 0;
  bool found = true;
  bool operator==(const ListOffsetsResponse&) const = default;
};

// ------------------------------------------------------------- Topic admin

struct CreateTopicExRequest {
  static constexpr MessageType kType = MessageType::kCreateTopicEx;
  std::string topic;
  uint32_t partition_count = 0;
  std::vector<ConfigEntry> configs;
  bool operator==(const CreateTopicExRequest&) const = default;
};

struct CreateTopicExResponse {
  static constexpr MessageType kType = MessageType::kCreateTopicEx;
  bool operator==(const CreateTopicExResponse&) const = default;
};

struct DescribeTopicConfigRequest {
  static constexpr MessageType kType = MessageType::kDescribeTopicConfig;
  std::string topic;
  bool operator==(const DescribeTopicConfigRequest&) const = default;
};

struct PartitionStats {
  uint32_t partition = 0;
  uint64_t log_start_offset = 0;
  uint64_t high_watermark = 0;
  uint32_t segment_count = 0;
  uint64_t size_bytes = 0;
  bool operator==(const PartitionStats&) const = default;
};

struct DescribeTopicConfigResponse {
  static constexpr MessageType kType = MessageType::kDescribeTopicConfig;
  uint32_t partition_count = 0;
  std::vector<ConfigEntry> configs;  // as the broker applies them
  std::vector<PartitionStats> partitions;
  bool operator==(const DescribeTopicConfigResponse&) const = default;
};

struct DeleteTopicRequest {
  static constexpr MessageType kType = MessageType::kDeleteTopic;
  std::string topic;
  bool operator==(const DeleteTopicRequest&) const = default;
};

struct DeleteTopicResponse {
  static constexpr MessageType kType = MessageType::kDeleteTopic;
  bool operator==(const DeleteTopicResponse&) const = default;
};

// ------------------------------------------------------------- Group admin

struct ListGroupsRequest {
  static constexpr MessageType kType = MessageType::kListGroups;
  bool operator==(const ListGroupsRequest&) const = default;
};

struct ListGroupsResponse {
  static constexpr MessageType kType = MessageType::kListGroups;
  std::vector<std::string> groups;
  bool operator==(const ListGroupsResponse&) const = default;
};

struct DescribeGroupRequest {
  static constexpr MessageType kType = MessageType::kDescribeGroup;
  std::string group;
  bool operator==(const DescribeGroupRequest&) const = default;
};

struct GroupPartitionOffset {
  std::string topic;
  uint32_t partition = 0;
  uint64_t committed = 0;
  uint64_t high_watermark = 0;
  uint64_t lag = 0;  // high_watermark - committed, floored at 0
  bool operator==(const GroupPartitionOffset&) const = default;
};

struct DescribeGroupResponse {
  static constexpr MessageType kType = MessageType::kDescribeGroup;
  std::vector<GroupPartitionOffset> partitions;
  bool operator==(const DescribeGroupResponse&) const = default;
};

struct DeleteGroupRequest {
  static constexpr MessageType kType = MessageType::kDeleteGroup;
  std::string group;
  bool operator==(const DeleteGroupRequest&) const = default;
};

struct DeleteGroupResponse {
  static constexpr MessageType kType = MessageType::kDeleteGroup;
  bool operator==(const DeleteGroupResponse&) const = default;
};

}  // namespace rustlog::protocol
