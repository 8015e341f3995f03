#include "protocol/produce_batch.h"

#include <variant>

#include "common/batch_builder.h"
#include "protocol/codec.h"
#include "protocol/frame.h"

namespace rustlog::protocol {

Result<std::string> produce_batch_frame(std::string_view produce_ex_frame, const Compression& compression,
                                        uint32_t max_frame_bytes) {
  if (produce_ex_frame.size() < kFrameHeaderBytes) return Status(ErrorCode::kInvalidRequest, "no ProduceEx frame");
  auto req = decode_request(produce_ex_frame.substr(kFrameHeaderBytes));
  if (!req) return req.status();
  const auto* ex = std::get_if<ProduceExRequest>(&*req);
  if (!ex || ex->records.empty()) return Status(ErrorCode::kInvalidRequest, "not a ProduceEx request with records");
  const auto own = [&](const ProducerRecord& r) { return effective_timestamp(*ex, r, kBrokerTimestamp) >= 0; };
  const bool broker_time = !own(ex->records.front());
  BatchBuilder b(0);
  for (const ProducerRecord& r : ex->records) {
    if (own(r) == broker_time)
      return Status(ErrorCode::kInvalidRequest, "a batch mixes records with and without their own timestamp");
    b.add(effective_timestamp(*ex, r, kBrokerTimestamp), r.key, r.value, r.headers);
  }
  ProduceBatchRequest out{ex->topic, ex->partition, b.finish(compression)};
  std::string frame;
  RUSTLOG_RETURN_IF_ERROR(encode_request(Request(std::move(out)), frame, max_frame_bytes));
  return frame;
}

}  // namespace rustlog::protocol
