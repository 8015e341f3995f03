// Legacy v0 layouts (table in docs/PROTOCOL.md). Frozen: existing
// clients depend on these bytes. Each read_body mirrors its write_body line by line.
#include "protocol/codec_body.h"

namespace rustlog::protocol::detail {

// Minimum encoded sizes of repeated elements, for Reader::count().
constexpr size_t kMinValueBytes = 4;       // u32 len
constexpr size_t kMinTopicSummary = 2 + 4;  // string name, u32 partition_count
constexpr size_t kMinWatermark = 4 + 8;     // u32 partition, u64 high_watermark

// ------------------------------------------------------------------ requests

void write_body(Writer& w, const ProduceRequest& m) {
  w.string(m.topic, "topic");
  w.u32(m.partition);
  w.count(m.records.size(), "record_count");
  for (const std::string& rec : m.records) w.bytes(rec, "record");
}

void read_body(Reader& r, ProduceRequest& m) {
  m.topic = r.string("topic");
  m.partition = r.u32("partition");
  const uint32_t n = r.count("record_count", kMinValueBytes);
  m.records.reserve(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) m.records.push_back(r.bytes("record"));
}

void write_body(Writer& w, const FetchRequest& m) {
  w.string(m.group_id, "group_id");
  w.string(m.topic, "topic");
  w.u32(m.partition);
  w.u64(m.offset);
  w.u32(m.max_bytes);
}

void read_body(Reader& r, FetchRequest& m) {
  m.group_id = r.string("group_id");
  m.topic = r.string("topic");
  m.partition = r.u32("partition");
  m.offset = r.u64("offset");
  m.max_bytes = r.u32("max_bytes");
}

void write_body(Writer& w, const OffsetCommitRequest& m) {
  w.string(m.group, "group");
  w.string(m.topic, "topic");
  w.u32(m.partition);
  w.u64(m.offset);
}

void read_body(Reader& r, OffsetCommitRequest& m) {
  m.group = r.string("group");
  m.topic = r.string("topic");
  m.partition = r.u32("partition");
  m.offset = r.u64("offset");
}

void write_body(Writer& w, const OffsetFetchRequest& m) {
  w.string(m.group, "group");
  w.string(m.topic, "topic");
  w.u32(m.partition);
}

void read_body(Reader& r, OffsetFetchRequest& m) {
  m.group = r.string("group");
  m.topic = r.string("topic");
  m.partition = r.u32("partition");
}

void write_body(Writer& w, const CreateTopicRequest& m) {
  w.string(m.topic, "topic");
  w.u32(m.partition_count);
}

void read_body(Reader& r, CreateTopicRequest& m) {
  m.topic = r.string("topic");
  m.partition_count = r.u32("partition_count");
}

void write_body(Writer&, const ListTopicsRequest&) {}
void read_body(Reader&, ListTopicsRequest&) {}

void write_body(Writer& w, const DescribeTopicRequest& m) { w.string(m.topic, "topic"); }
void read_body(Reader& r, DescribeTopicRequest& m) { m.topic = r.string("topic"); }

void write_body(Writer& w, const DescribePartitionRequest& m) {
  w.string(m.topic, "topic");
  w.u32(m.partition);
}

void read_body(Reader& r, DescribePartitionRequest& m) {
  m.topic = r.string("topic");
  m.partition = r.u32("partition");
}

void write_body(Writer&, const MetricsFetchRequest&) {}
void read_body(Reader&, MetricsFetchRequest&) {}

void write_body(Writer&, const PingRequest&) {}
void read_body(Reader&, PingRequest&) {}

// ----------------------------------------------------------------- responses

void write_body(Writer& w, const ProduceResponse& m) {
  w.u64(m.base_offset);
  w.u32(m.record_count);
}

void read_body(Reader& r, ProduceResponse& m) {
  m.base_offset = r.u64("base_offset");
  m.record_count = r.u32("record_count");
}

void write_body(Writer& w, const FetchResponse& m) {
  w.count(m.records.size(), "record_count");
  for (const std::string& rec : m.records) w.bytes(rec, "record");
  w.u64(m.next_offset);
}

void read_body(Reader& r, FetchResponse& m) {
  const uint32_t n = r.count("record_count", kMinValueBytes);
  m.records.reserve(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) m.records.push_back(r.bytes("record"));
  m.next_offset = r.u64("next_offset");
}

void write_body(Writer& w, const OffsetCommitResponse& m) { w.boolean(m.success); }
void read_body(Reader& r, OffsetCommitResponse& m) { m.success = r.boolean("success"); }

void write_body(Writer& w, const OffsetFetchResponse& m) {
  w.boolean(m.offset.has_value());
  if (m.offset) w.u64(*m.offset);
}

void read_body(Reader& r, OffsetFetchResponse& m) {
  if (r.boolean("has_offset")) {
    m.offset = r.u64("offset");
  } else {
    m.offset.reset();
  }
}

void write_body(Writer& w, const CreateTopicResponse& m) { w.boolean(m.success); }
void read_body(Reader& r, CreateTopicResponse& m) { m.success = r.boolean("success"); }

void write_body(Writer& w, const ListTopicsResponse& m) {
  w.count(m.topics.size(), "topic_count");
  for (const TopicSummary& t : m.topics) {
    w.string(t.name, "name");
    w.u32(t.partition_count);
  }
}

void read_body(Reader& r, ListTopicsResponse& m) {
  const uint32_t n = r.count("topic_count", kMinTopicSummary);
  m.topics.reserve(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    TopicSummary& t = m.topics.emplace_back();
    t.name = r.string("name");
    t.partition_count = r.u32("partition_count");
  }
}

void write_body(Writer& w, const DescribeTopicResponse& m) {
  w.string(m.topic, "topic");
  w.u32(m.partition_count);
  w.count(m.partitions.size(), "n");
  for (const PartitionWatermark& p : m.partitions) {
    w.u32(p.partition);
    w.u64(p.high_watermark);
  }
}

void read_body(Reader& r, DescribeTopicResponse& m) {
  m.topic = r.string("topic");
  m.partition_count = r.u32("partition_count");
  const uint32_t n = r.count("n", kMinWatermark);
  m.partitions.reserve(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    PartitionWatermark& p = m.partitions.emplace_back();
    p.partition = r.u32("partition");
    p.high_watermark = r.u64("high_watermark");
  }
}

void write_body(Writer& w, const DescribePartitionResponse& m) {
  w.string(m.topic, "topic");
  w.u32(m.partition);
  w.u64(m.high_watermark);
}

void read_body(Reader& r, DescribePartitionResponse& m) {
  m.topic = r.string("topic");
  m.partition = r.u32("partition");
  m.high_watermark = r.u64("high_watermark");
}

// The metrics text is u32 length + bytes (not a u16 string): it can exceed 64 KiB.
void write_body(Writer& w, const MetricsResponse& m) { w.bytes(m.text, "text"); }
void read_body(Reader& r, MetricsResponse& m) { m.text = r.bytes("text"); }

void write_body(Writer& w, const ErrorResponse& m) {
  w.u16(static_cast<uint16_t>(m.code));
  w.string(m.message, "message");
}

void read_body(Reader& r, ErrorResponse& m) {
  m.code = static_cast<ErrorCode>(r.u16("code"));
  m.message = r.string("message");
}

void write_body(Writer&, const PongResponse&) {}
void read_body(Reader&, PongResponse&) {}

}  // namespace rustlog::protocol::detail
