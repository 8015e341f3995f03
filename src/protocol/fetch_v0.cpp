#include "protocol/fetch_v0.h"

#include "common/byte_order.h"
#include "protocol/frame.h"
#include "protocol/message_type.h"

namespace rustlog::protocol {

void FetchV0Encoder::begin(std::string& out) {
  start_ = out.size();
  begin_frame(out);
  out.push_back(static_cast<char>(MessageType::kFetch));
  out.append(4, '\0');  // record_count, patched by finish()
  if (splices_) splices_->clear();
  spliced_ = 0;
}

bool FetchV0Encoder::add(uint64_t offset, std::string_view value, std::string& out, const BytesPin& value_pin) {
  if (full_) return false;
  if (count_ > 0 && bytes_ + value.size() + 4 > max_bytes_) {
    full_ = true;
    return false;
  }
  bytes_ += value.size() + 4;
  uint8_t len[4];
  put_u32(len, static_cast<uint32_t>(value.size()));
  out.append(reinterpret_cast<const char*>(len), 4);
  if (splices_ && value_pin && value.size() >= kSpliceMinBytes) {
    splices_->push_back({out.size(), value, value_pin});
    spliced_ += value.size();
  } else {
    out.append(value);  // copied once (no zero-fill first)
  }
  ++count_;
  next_ = offset + 1;
  return true;
}

Status FetchV0Encoder::finish(std::string& out, uint32_t max_frame_bytes) {
  uint8_t tail[8];
  put_u64(tail, next_);
  out.append(reinterpret_cast<const char*>(tail), 8);
  put_u32(reinterpret_cast<uint8_t*>(out.data()) + start_ + kFrameHeaderBytes + 1, count_);
  Status st = end_frame(out, start_, max_frame_bytes, spliced_);
  if (!st && splices_) splices_->clear();
  return st;
}

}  // namespace rustlog::protocol
