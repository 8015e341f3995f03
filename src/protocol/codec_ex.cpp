// Extended layouts (type codes 0x10 and up; tables in docs/PROTOCOL.md). Each
// read_body mirrors its write_body line by line.
#include <string>

#include "protocol/codec_body.h"

namespace rustlog::protocol::detail {
namespace {

// Minimum encoded sizes of repeated elements, for Reader::count().
constexpr size_t kMinTypeCode = 1;                   // u8
constexpr size_t kMinHeader = 2 + 4;                 // string name, bytes value
constexpr size_t kMinProducerRecord = 8 + 4 + 4 + 4;  // ts, key, value, header count
constexpr size_t kMinFetchedRecord = 8 + 8 + 4 + 4 + 4;  // offset, ts, key, value, headers
constexpr size_t kMinConfigEntry = 2 + 2;                // string key, string value
constexpr size_t kMinPartitionStats = 4 + 8 + 8 + 4 + 8;
constexpr size_t kMinGroupId = 2;
constexpr size_t kMinGroupPartition = 2 + 4 + 8 + 8 + 8;

void write_headers(Writer& w, const std::vector<RecordHeader>& headers) {
  w.count(headers.size(), "header_count");
  for (const RecordHeader& h : headers) {
    w.string(h.name, "header name");
    w.bytes(h.value, "header value");
  }
}

void read_headers(Reader& r, std::vector<RecordHeader>& headers) {
  const uint32_t n = r.count("header_count", kMinHeader);
  headers.reserve(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    RecordHeader& h = headers.emplace_back();
    h.name = r.string("header name");
    h.value = r.bytes("header value");
  }
}

void write_configs(Writer& w, const std::vector<ConfigEntry>& configs) {
  w.count(configs.size(), "config_count");
  for (const ConfigEntry& c : configs) {
    w.string(c.key, "config key");
    w.string(c.value, "config value");
  }
}

void read_configs(Reader& r, std::vector<ConfigEntry>& configs) {
  const uint32_t n = r.count("config_count", kMinConfigEntry);
  configs.reserve(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    ConfigEntry& c = configs.emplace_back();
    c.key = r.string("config key");
    c.value = r.string("config value");
  }
}

// Producer timestamps: -1 (broker assigns) or a time >= 0.
constexpr const char* kBadTimestamp = "must be -1 (broker time) or >= 0 microseconds";

int64_t read_producer_timestamp(Reader& r, const char* field) {
  const int64_t ts = r.i64(field);
  if (ts < kBrokerTimestamp) r.fail(field, std::to_string(ts) + " " + kBadTimestamp);
  return ts;
}

void write_producer_timestamp(Writer& w, int64_t ts, const char* field) {
  if (ts < kBrokerTimestamp) w.fail(field, std::to_string(ts) + " " + kBadTimestamp);
  w.i64(ts);
}

}  // namespace

void write_producer_record(Writer& w, const ProducerRecord& rec) {
  write_producer_timestamp(w, rec.timestamp_us, "record timestamp_us");
  w.nullable_bytes(rec.key, "key");
  w.nullable_bytes(rec.value, "value");
  write_headers(w, rec.headers);
}

void write_produce_ex_head(Writer& w, std::string_view topic, uint32_t partition, int64_t timestamp_us) {
  w.string(topic, "topic");
  w.u32(partition);
  write_producer_timestamp(w, timestamp_us, "timestamp_us");
}

// ------------------------------------------------------------------ Handshake

void write_body(Writer& w, const HandshakeRequest& m) {
  w.string(m.client_version, "client_version");
}

void read_body(Reader& r, HandshakeRequest& m) { m.client_version = r.string("client_version"); }

void write_body(Writer& w, const HandshakeResponse& m) {
  w.string(m.server_version, "server_version");
  w.u32(m.max_frame_bytes);
  w.count(m.supported_types.size(), "type_count");
  for (MessageType t : m.supported_types) w.u8(static_cast<uint8_t>(t));
}

void read_body(Reader& r, HandshakeResponse& m) {
  m.server_version = r.string("server_version");
  m.max_frame_bytes = r.u32("max_frame_bytes");
  const uint32_t n = r.count("type_count", kMinTypeCode);
  m.supported_types.reserve(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    m.supported_types.push_back(static_cast<MessageType>(r.u8("type")));
  }
}

// ------------------------------------------------------------------ ProduceEx

void write_body(Writer& w, const ProduceExRequest& m) {
  write_produce_ex_head(w, m.topic, m.partition, m.timestamp_us);
  w.count(m.records.size(), "record_count");
  for (const ProducerRecord& rec : m.records) write_producer_record(w, rec);
}

void read_body(Reader& r, ProduceExRequest& m) {
  m.topic = r.string("topic");
  m.partition = r.u32("partition");
  m.timestamp_us = read_producer_timestamp(r, "timestamp_us");
  const uint32_t n = r.count("record_count", kMinProducerRecord);
  m.records.reserve(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    ProducerRecord& rec = m.records.emplace_back();
    rec.timestamp_us = read_producer_timestamp(r, "record timestamp_us");
    rec.key = r.nullable_bytes("key");
    rec.value = r.nullable_bytes("value");
    read_headers(r, rec.headers);
  }
}

// ProduceExResponse and ProduceBatchResponse.
void write_produce_answer(Writer& w, const ProduceAnswer& m) {
  w.u64(m.base_offset);
  w.u32(m.record_count);
  w.i64(m.append_time_us);
}

void read_produce_answer(Reader& r, ProduceAnswer& m) {
  m.base_offset = r.u64("base_offset");
  m.record_count = r.u32("record_count");
  m.append_time_us = r.i64("append_time_us");
}

void write_body(Writer& w, const ProduceExResponse& m) { write_produce_answer(w, m); }
void read_body(Reader& r, ProduceExResponse& m) { read_produce_answer(r, m); }

// --------------------------------------------------------------- ProduceBatch

void write_body(Writer& w, const ProduceBatchRequest& m) {
  w.string(m.topic, "topic");
  w.u32(m.partition);
  w.bytes(m.batch, "batch");
}

void read_body(Reader& r, ProduceBatchRequest& m) {
  m.topic = r.string("topic");
  m.partition = r.u32("partition");
  m.batch = r.bytes("batch");
}

void write_body(Writer& w, const ProduceBatchResponse& m) { write_produce_answer(w, m); }
void read_body(Reader& r, ProduceBatchResponse& m) { read_produce_answer(r, m); }

// -------------------------------------------------------------------- FetchEx

void write_body(Writer& w, const FetchExRequest& m) {
  w.string(m.topic, "topic");
  w.u32(m.partition);
  w.u64(m.offset);
  w.u32(m.max_bytes);
  w.u32(m.max_wait_ms);
  w.u32(m.min_bytes);
}

void read_body(Reader& r, FetchExRequest& m) {
  m.topic = r.string("topic");
  m.partition = r.u32("partition");
  m.offset = r.u64("offset");
  m.max_bytes = r.u32("max_bytes");
  m.max_wait_ms = r.u32("max_wait_ms");
  m.min_bytes = r.u32("min_bytes");
}

void write_body(Writer& w, const FetchExResponse& m) {
  w.u64(m.high_watermark);
  w.u64(m.log_start_offset);
  w.count(m.records.size(), "record_count");
  for (const Record& rec : m.records) {
    w.u64(rec.offset);
    w.i64(rec.timestamp_us);
    w.nullable_bytes(rec.key, "key");
    w.nullable_bytes(rec.value, "value");
    write_headers(w, rec.headers);
  }
  w.u64(m.next_offset);
}

void read_body(Reader& r, FetchExResponse& m) {
  m.high_watermark = r.u64("high_watermark");
  m.log_start_offset = r.u64("log_start_offset");
  const uint32_t n = r.count("record_count", kMinFetchedRecord);
  m.records.reserve(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    Record& rec = m.records.emplace_back();
    rec.offset = r.u64("offset");
    rec.timestamp_us = r.i64("timestamp_us");
    rec.key = r.nullable_bytes("key");
    rec.value = r.nullable_bytes("value");
    read_headers(r, rec.headers);
  }
  m.next_offset = r.u64("next_offset");
}

// ---------------------------------------------------------------- ListOffsets

void write_body(Writer& w, const ListOffsetsRequest& m) {
  w.string(m.topic, "topic");
  w.u32(m.partition);
  if (m.spec < kListOffsetsEarliest) {
    w.fail("spec", std::to_string(m.spec) + " must be -2, -1 or a timestamp >= 0");
  }
  w.i64(m.spec);
}

void read_body(Reader& r, ListOffsetsRequest& m) {
  m.topic = r.string("topic");
  m.partition = r.u32("partition");
  m.spec = r.i64("spec");
  if (m.spec < kListOffsetsEarliest) {
    r.fail("spec", std::to_string(m.spec) +
                       " must be -2 (earliest), -1 (latest) or a timestamp >= 0 (microseconds)");
  }
}

void write_body(Writer& w, const ListOffsetsResponse& m) {
  w.u64(m.offset);
  w.boolean(m.found);
}

void read_body(Reader& r, ListOffsetsResponse& m) {
  m.offset = r.u64("offset");
  m.found = r.boolean("found");
}

// ---------------------------------------------------------------- Topic admin

void write_body(Writer& w, const CreateTopicExRequest& m) {
  w.string(m.topic, "topic");
  w.u32(m.partition_count);
  write_configs(w, m.configs);
}

void read_body(Reader& r, CreateTopicExRequest& m) {
  m.topic = r.string("topic");
  m.partition_count = r.u32("partition_count");
  read_configs(r, m.configs);
}

void write_body(Writer&, const CreateTopicExResponse&) {}
void read_body(Reader&, CreateTopicExResponse&) {}

void write_body(Writer& w, const DescribeTopicConfigRequest& m) { w.string(m.topic, "topic"); }
void read_body(Reader& r, DescribeTopicConfigRequest& m) { m.topic = r.string("topic"); }

void write_body(Writer& w, const DescribeTopicConfigResponse& m) {
  w.u32(m.partition_count);
  write_configs(w, m.configs);
  w.count(m.partitions.size(), "partition_stats_count");
  for (const PartitionStats& p : m.partitions) {
    w.u32(p.partition);
    w.u64(p.log_start_offset);
    w.u64(p.high_watermark);
    w.u32(p.segment_count);
    w.u64(p.size_bytes);
  }
}

void read_body(Reader& r, DescribeTopicConfigResponse& m) {
  m.partition_count = r.u32("partition_count");
  read_configs(r, m.configs);
  const uint32_t n = r.count("partition_stats_count", kMinPartitionStats);
  m.partitions.reserve(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    PartitionStats& p = m.partitions.emplace_back();
    p.partition = r.u32("partition");
    p.log_start_offset = r.u64("log_start_offset");
    p.high_watermark = r.u64("high_watermark");
    p.segment_count = r.u32("segment_count");
    p.size_bytes = r.u64("size_bytes");
  }
}

void write_body(Writer& w, const DeleteTopicRequest& m) { w.string(m.topic, "topic"); }
void read_body(Reader& r, DeleteTopicRequest& m) { m.topic = r.string("topic"); }

void write_body(Writer&, const DeleteTopicResponse&) {}
void read_body(Reader&, DeleteTopicResponse&) {}

// ---------------------------------------------------------------- Group admin

void write_body(Writer&, const ListGroupsRequest&) {}
void read_body(Reader&, ListGroupsRequest&) {}

void write_body(Writer& w, const ListGroupsResponse& m) {
  w.count(m.groups.size(), "group_count");
  for (const std::string& g : m.groups) w.string(g, "group");
}

void read_body(Reader& r, ListGroupsResponse& m) {
  const uint32_t n = r.count("group_count", kMinGroupId);
  m.groups.reserve(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) m.groups.push_back(r.string("group"));
}

void write_body(Writer& w, const DescribeGroupRequest& m) { w.string(m.group, "group"); }
void read_body(Reader& r, DescribeGroupRequest& m) { m.group = r.string("group"); }

void write_body(Writer& w, const DescribeGroupResponse& m) {
  w.count(m.partitions.size(), "partition_count");
  for (const GroupPartitionOffset& p : m.partitions) {
    w.string(p.topic, "topic");
    w.u32(p.partition);
    w.u64(p.committed);
    w.u64(p.high_watermark);
    w.u64(p.lag);
  }
}

void read_body(Reader& r, DescribeGroupResponse& m) {
  const uint32_t n = r.count("partition_count", kMinGroupPartition);
  m.partitions.reserve(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    GroupPartitionOffset& p = m.partitions.emplace_back();
    p.topic = r.string("topic");
    p.partition = r.u32("partition");
    p.committed = r.u64("committed");
    p.high_watermark = r.u64("high_watermark");
    p.lag = r.u64("lag");
  }
}

void write_body(Writer& w, const DeleteGroupRequest& m) { w.string(m.group, "group"); }
void read_body(Reader& r, DeleteGroupRequest& m) { m.group = r.string("group"); }

void write_body(Writer&, const DeleteGroupResponse&) {}
void read_body(Reader&, DeleteGroupResponse&) {}

}  // namespace rustlog::protocol::detail
