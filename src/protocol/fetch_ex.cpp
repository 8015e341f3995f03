#include "protocol/fetch_ex.h"

#include <limits>

#include "common/byte_order.h"
#include "protocol/frame.h"
#include "protocol/message_type.h"
#include "protocol/wire.h"

namespace rustlog::protocol {

namespace {
// type, u64 high_watermark, u64 log_start_offset, u32 record_count.
constexpr size_t kHead = 1 + 8 + 8 + 4;
}  // namespace

void FetchExEncoder::begin(std::string& out) {
  start_ = out.size();
  begin_frame(out);
  out.push_back(static_cast<char>(MessageType::kFetchEx));
  out.append(kHead - 1, '\0');  // patched by finish()
  count_ = 0;
  status_ = Status::ok();
  if (splices_) splices_->clear();
  spliced_ = 0;
}

void FetchExEncoder::nullable(std::string& out, std::optional<std::string_view> b, const char* field) {
  Writer w(out);
  if (!b) {
    w.i32(-1);
    return;
  }
  if (b->size() > static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    if (status_) status_ = Status(ErrorCode::kInternal, std::string("bytes '") + field + "' exceed 2 GiB");
    return;
  }
  w.i32(static_cast<int32_t>(b->size()));
  out.append(*b);
}

void FetchExEncoder::add(std::string& out, uint64_t offset, int64_t timestamp_us, std::optional<std::string_view> key,
                         std::optional<std::string_view> value, size_t header_count, const BytesPin& value_pin) {
  Writer w(out);
  w.u64(offset);
  w.i64(timestamp_us);
  nullable(out, key, "key");
  if (splices_ && value_pin && value && value->size() >= kSpliceMinBytes &&
      value->size() <= static_cast<size_t>(std::numeric_limits<int32_t>::max())) {
    w.i32(static_cast<int32_t>(value->size()));
    splices_->push_back({out.size(), *value, value_pin});
    spliced_ += value->size();
  } else {
    nullable(out, value, "value");
  }
  w.count(header_count, "header_count");
  if (!w.status() && status_) status_ = w.status();
  ++count_;
}

void FetchExEncoder::add_header(std::string& out, std::string_view name, std::string_view value) {
  Writer w(out);
  w.string(name, "header name");
  w.bytes(value, "header value");
  if (!w.status() && status_) status_ = w.status();
}

void FetchExEncoder::clear(std::string& out) {
  out.resize(start_ + kFrameHeaderBytes + kHead);
  count_ = 0;
  status_ = Status::ok();
  if (splices_) splices_->clear();
  spliced_ = 0;
}

size_t FetchExEncoder::answer_bytes(const std::string& out) const {
  return out.size() - start_ - kFrameHeaderBytes + spliced_ + 8;
}

Status FetchExEncoder::finish(std::string& out, uint64_t high_watermark, uint64_t log_start_offset,
                              uint64_t next_offset, uint32_t max_frame_bytes) {
  if (!status_) {
    out.resize(start_);
    if (splices_) splices_->clear();
    spliced_ = 0;
    return Status(ErrorCode::kInternal, "cannot encode FetchEx response: " + status_.message());
  }
  auto* p = reinterpret_cast<uint8_t*>(out.data()) + start_ + kFrameHeaderBytes + 1;
  put_u64(p, high_watermark);
  put_u64(p + 8, log_start_offset);
  put_u32(p + 16, count_);
  uint8_t tail[8];
  put_u64(tail, next_offset);
  out.append(reinterpret_cast<const char*>(tail), 8);
  Status st = end_frame(out, start_, max_frame_bytes, spliced_);
  if (!st && splices_) splices_->clear();
  return st;
}

}  // namespace rustlog::protocol
