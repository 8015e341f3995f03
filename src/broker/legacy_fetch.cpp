#include "broker/legacy_fetch.h"

#include <cstring>

#include "protocol/frame.h"
#include "protocol/message_type.h"
#include "common/byte_order.h"
#include "storage/record_view.h"

namespace rustlog {

void LegacyFetchEncoder::begin(std::string& out) {
  start_ = out.size();
  protocol::begin_frame(out);
  out.push_back(static_cast<char>(protocol::MessageType::kFetch));
  out.append(4, '\0');  // record_count, patched by finish()
}

Status LegacyFetchEncoder::add(std::string_view batches, std::string& out, bool* full) {
  // The answer never takes more room than the batches it comes from (a
  // record takes at least 7 bytes in a batch, 4 + its value on the wire).
  out.reserve(out.size() + batches.size() + 16);
  RecordWalker w(batches, check_crc_);
  RecordView r;
  while (!full_ && w.next(&r)) {
    if (r.offset < start_offset_) continue;
    const std::string_view v = r.value_or_empty();
    if (count_ > 0 && bytes_ + v.size() + 4 > max_bytes_) {
      full_ = true;
      break;
    }
    bytes_ += v.size() + 4;
    const size_t at = out.size();
    out.resize(at + 4 + v.size());
    auto* p = reinterpret_cast<uint8_t*>(out.data()) + at;
    put_u32(p, static_cast<uint32_t>(v.size()));
    if (!v.empty()) std::memcpy(p + 4, v.data(), v.size());
    ++count_;
    next_ = r.offset + 1;
  }
  *full = full_;
  return w.status();
}

Status LegacyFetchEncoder::finish(std::string& out, uint32_t max_frame_bytes) {
  uint8_t tail[8];
  put_u64(tail, next_);
  out.append(reinterpret_cast<const char*>(tail), 8);
  put_u32(reinterpret_cast<uint8_t*>(out.data()) + start_ + protocol::kFrameHeaderBytes + 1, count_);
  return protocol::end_frame(out, start_, max_frame_bytes);
}

Status append_legacy_fetch_response(std::string_view batches, uint64_t start_offset, uint32_t max_bytes,
                                    uint32_t max_frame_bytes, bool check_crc, std::string& out,
                                    LegacyFetchInfo* info) {
  const size_t start = out.size();
  LegacyFetchEncoder enc(start_offset, max_bytes, check_crc);
  enc.begin(out);
  bool full = false;
  if (Status st = enc.add(batches, out, &full); !st) {
    out.resize(start);
    return st;
  }
  RUSTLOG_RETURN_IF_ERROR(enc.finish(out, max_frame_bytes));
  if (info) *info = enc.info();
  return Status::ok();
}

}  // namespace rustlog
