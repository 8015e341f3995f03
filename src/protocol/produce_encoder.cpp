#include "protocol/produce_encoder.h"

#include "common/byte_order.h"
#include "protocol/codec_body.h"
#include "protocol/frame.h"
#include "protocol/wire.h"

namespace rustlog::protocol {

ProduceExEncoder::ProduceExEncoder(std::string_view topic, uint32_t partition, int64_t batch_timestamp_us) {
  buf_.reserve(head_bytes(topic) + 4096);
  (void)begin_frame(buf_);
  Writer w(buf_);
  w.u8(static_cast<uint8_t>(MessageType::kProduceEx));
  // A bad topic or timestamp surfaces when the broker answers 400; the
  // producer checks both before it builds a batch.
  detail::write_produce_ex_head(w, topic, partition, batch_timestamp_us);
  count_at_ = buf_.size();
  w.u32(0);
}

Status ProduceExEncoder::add(const ProducerRecord& record) {
  RUSTLOG_RETURN_IF_ERROR(encode(record, buf_));
  ++count_;
  return Status::ok();
}

Status ProduceExEncoder::encode(const ProducerRecord& record, std::string& out) {
  const size_t before = out.size();
  Writer w(out);
  detail::write_producer_record(w, record);
  if (!w.status()) {
    out.resize(before);
    return Status(ErrorCode::kInvalidRequest, "record cannot be sent: " + w.status().message());
  }
  return Status::ok();
}

void ProduceExEncoder::add_encoded(std::string_view record_bytes) {
  buf_.append(record_bytes);
  ++count_;
}

std::string ProduceExEncoder::finish() && {
  put_u32(reinterpret_cast<uint8_t*>(buf_.data()) + count_at_, count_);
  put_u32(reinterpret_cast<uint8_t*>(buf_.data()), static_cast<uint32_t>(buf_.size() - kFrameHeaderBytes));
  return std::move(buf_);
}

size_t ProduceExEncoder::head_bytes(std::string_view topic) {
  return kFrameHeaderBytes + 1 + 2 + topic.size() + 4 + 8 + 4;
}

}  // namespace rustlog::protocol
