#include "protocol/produce_batch.h"

#include <vector>

#include "common/batch_builder.h"
#include "protocol/codec.h"
#include "protocol/frame.h"
#include "protocol/wire.h"

namespace rustlog::protocol {

namespace {

constexpr size_t kMinProducerRecord = 8 + 4 + 4 + 4;  // ts, key, value, header count
constexpr size_t kMinHeader = 2 + 4;                  // string name, bytes value

Status invalid(std::string message) { return Status(ErrorCode::kInvalidRequest, std::move(message)); }

}  // namespace

// The ProduceEx body (docs/PROTOCOL.md, "0x14 ProduceEx") walked in place:
// the records go into the batch as views of the frame, never copied into
// ProducerRecords first.
Result<std::string> produce_batch_frame(std::string_view produce_ex_frame, const Compression& compression,
                                        uint32_t max_frame_bytes) {
  if (produce_ex_frame.size() < kFrameHeaderBytes) return invalid("no ProduceEx frame");
  Reader r(produce_ex_frame.substr(kFrameHeaderBytes), "ProduceEx request");
  if (r.u8("type") != static_cast<uint8_t>(MessageType::kProduceEx)) return invalid("not a ProduceEx request");
  const std::string_view topic = r.string_ref("topic");
  const uint32_t partition = r.u32("partition");
  const int64_t batch_ts = r.i64("timestamp_us");
  const uint32_t n = r.count("record_count", kMinProducerRecord);
  if (!r.ok()) return r.finish();
  if (n == 0) return invalid("not a ProduceEx request with records");
  // One builder per thread: its compression buffer is reused batch after batch.
  thread_local BatchBuilder b(0);
  thread_local std::vector<BatchBuilder::HeaderRef> headers;
  bool broker_time = false;
  Status mixed;
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    const int64_t ts = r.i64("record timestamp_us");
    const auto key = r.nullable_bytes_ref("key");
    const auto value = r.nullable_bytes_ref("value");
    const uint32_t h = r.count("header_count", kMinHeader);
    headers.clear();
    for (uint32_t j = 0; j < h && r.ok(); ++j) {
      const std::string_view name = r.string_ref("header name");
      headers.push_back({name, r.bytes_ref("header value")});
    }
    if (ts < kBrokerTimestamp || batch_ts < kBrokerTimestamp) r.fail("timestamp_us", "must be -1 or >= 0");
    // effective_timestamp() with the append time still unknown.
    const int64_t eff = ts >= 0 ? ts : batch_ts >= 0 ? batch_ts : kBrokerTimestamp;
    if (i == 0) broker_time = eff < 0;
    if ((eff >= 0) == broker_time) {
      mixed = invalid("a batch mixes records with and without their own timestamp");
      break;
    }
    b.add_ref(eff, key, value, headers);
  }
  Status st = mixed.is_ok() ? r.finish() : mixed;
  std::string batch = b.finish(st.is_ok() ? compression : Compression{});  // also resets the builder
  if (!st.is_ok()) return st;
  ProduceBatchRequest out{std::string(topic), partition, std::move(batch)};
  std::string frame;
  RUSTLOG_RETURN_IF_ERROR(encode_request(Request(std::move(out)), frame, max_frame_bytes));
  return frame;
}

}  // namespace rustlog::protocol
