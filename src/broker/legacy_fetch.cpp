#include "broker/legacy_fetch.h"

#include <cstring>

#include "protocol/frame.h"
#include "protocol/message_type.h"
#include "storage/byte_order.h"
#include "storage/record_view.h"

namespace rustlog {

Status append_legacy_fetch_response(std::string_view batches, uint64_t start_offset, uint32_t max_bytes,
                                    uint32_t max_frame_bytes, bool check_crc, std::string& out,
                                    LegacyFetchInfo* info) {
  const size_t start = out.size();
  // The answer is never larger than the batches it comes from (a record
  // takes at least 7 bytes in a batch, 4 + its value on the wire) plus the
  // fixed fields.
  out.reserve(start + batches.size() + 32);
  protocol::begin_frame(out);
  out.push_back(static_cast<char>(protocol::MessageType::kFetch));
  const size_t count_pos = out.size();
  out.append(4, '\0');
  RecordWalker w(batches, check_crc);
  RecordView r;
  uint32_t count = 0;
  uint64_t bytes = 0;
  uint64_t next = start_offset;
  while (w.next(&r)) {
    if (r.offset < start_offset) continue;
    const std::string_view v = r.value_or_empty();
    if (count > 0 && bytes + v.size() + 4 > max_bytes) break;
    bytes += v.size() + 4;
    const size_t at = out.size();
    out.resize(at + 4 + v.size());
    auto* p = reinterpret_cast<uint8_t*>(out.data()) + at;
    put_u32(p, static_cast<uint32_t>(v.size()));
    if (!v.empty()) std::memcpy(p + 4, v.data(), v.size());
    ++count;
    next = r.offset + 1;
  }
  if (!w.status()) {
    out.resize(start);
    return w.status();
  }
  uint8_t tail[8];
  put_u64(tail, next);
  out.append(reinterpret_cast<const char*>(tail), 8);
  put_u32(reinterpret_cast<uint8_t*>(out.data()) + count_pos, count);
  Status st = protocol::end_frame(out, start, max_frame_bytes);
  if (!st) return st;
  if (info) *info = LegacyFetchInfo{count, next};
  return Status::ok();
}

}  // namespace rustlog
