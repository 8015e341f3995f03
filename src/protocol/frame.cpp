#include "protocol/frame.h"

#include "common/byte_order.h"

namespace rustlog::protocol {

Status check_frame_length(uint32_t length, uint32_t max_frame_bytes) {
  if (length == 0) {
    return Status(ErrorCode::kInvalidRequest,
                  "frame length 0 is invalid: every frame carries at least a type byte");
  }
  if (length > max_frame_bytes) {
    return Status(ErrorCode::kTooLarge, "frame length " + std::to_string(length) +
                                            " exceeds max_frame_bytes " +
                                            std::to_string(max_frame_bytes));
  }
  return Status::ok();
}

FrameDecoder::FrameDecoder(uint32_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}

void FrameDecoder::feed(std::string_view bytes) {
  if (failed() || bytes.empty()) return;
  // Drop what next() has already handed out; this is what invalidates its views.
  peeked_ = 0;
  if (pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
    // A connection that once sent a large frame does not keep its buffer.
    if (buf_.capacity() > (1u << 20) && bytes.size() < (1u << 20)) buf_.shrink_to_fit();
  } else if (pos_ > 0) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(bytes);
}

Result<std::optional<std::string_view>> FrameDecoder::next() {
  auto f = peek();
  if (f && *f) pop();
  return f;
}

void FrameDecoder::pop() {
  pos_ += peeked_;
  peeked_ = 0;
}

Result<std::optional<std::string_view>> FrameDecoder::peek() {
  if (failed()) return error_;
  peeked_ = 0;
  if (buffered_bytes() < kFrameHeaderBytes) return std::optional<std::string_view>();
  const uint32_t length = get_u32(reinterpret_cast<const uint8_t*>(buf_.data()) + pos_);
  if (Status st = check_frame_length(length, max_frame_bytes_); !st.is_ok()) {
    error_ = st;
    buf_.clear();
    buf_.shrink_to_fit();
    pos_ = 0;
    return error_;
  }
  if (buffered_bytes() - kFrameHeaderBytes < length) return std::optional<std::string_view>();
  std::string_view payload(buf_.data() + pos_ + kFrameHeaderBytes, length);
  peeked_ = kFrameHeaderBytes + length;
  return std::optional<std::string_view>(payload);
}

size_t begin_frame(std::string& out) {
  const size_t start = out.size();
  out.append(kFrameHeaderBytes, '\0');
  return start;
}

Status end_frame(std::string& out, size_t start, uint32_t max_frame_bytes, size_t spliced_bytes) {
  const size_t payload = out.size() - start - kFrameHeaderBytes + spliced_bytes;
  // Compared as size_t: a payload above 4 GiB must not wrap into range.
  Status st = payload > max_frame_bytes
                  ? Status(ErrorCode::kTooLarge, "frame payload of " + std::to_string(payload) +
                                                     " bytes exceeds max_frame_bytes " +
                                                     std::to_string(max_frame_bytes))
                  : check_frame_length(static_cast<uint32_t>(payload), max_frame_bytes);
  if (!st.is_ok()) {
    out.resize(start);
    return st;
  }
  put_u32(reinterpret_cast<uint8_t*>(out.data() + start), static_cast<uint32_t>(payload));
  return Status::ok();
}

Status append_frame(std::string& out, std::string_view payload, uint32_t max_frame_bytes) {
  const size_t start = begin_frame(out);
  out.append(payload);
  return end_frame(out, start, max_frame_bytes);
}

}  // namespace rustlog::protocol
