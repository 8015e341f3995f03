#include "protocol/produce_v0.h"

#include <cstring>

#include "common/batch_header.h"
#include "common/byte_order.h"
#include "common/varint.h"
#include "protocol/message_type.h"
#include "protocol/wire.h"

namespace rustlog::protocol {

bool parse_produce_v0(std::string_view payload, ProduceV0* out) {
  const auto* p = reinterpret_cast<const uint8_t*>(payload.data());
  const size_t n = payload.size();
  if (n < 1 + 2 || p[0] != static_cast<uint8_t>(MessageType::kProduce)) return false;
  const size_t tlen = get_u16(p + 1);
  size_t pos = 3 + tlen;
  if (pos + 8 > n) return false;
  out->topic = payload.substr(3, tlen);
  if (!is_wire_string(out->topic)) return false;
  out->partition = get_u32(p + pos);
  out->count = get_u32(p + pos + 4);
  pos += 8;
  if (out->count == 0) return false;
  const size_t start = pos;
  for (uint32_t i = 0; i < out->count; ++i) {
    if (n - pos < 4) return false;
    const size_t len = get_u32(p + pos);
    if (n - pos - 4 < len) return false;
    pos += 4 + len;
  }
  if (pos != n) return false;
  out->records = payload.substr(start);
  return true;
}

void build_produce_v0_batch(const ProduceV0& v, int64_t now_us, std::string& out, uint64_t base_offset) {
  // Record: uvarint body_length | 0 attributes | varint ts_delta (0) |
  // uvarint offset_delta | varint key_length (-1) | varint value_length |
  // value | uvarint header_count (0). Worst case per record: 10 + 1 + 1 + 5
  // + 1 + 10 + 1 bytes around the value.
  const size_t bound = kBatchHeaderSize + v.records.size() + size_t{v.count} * 29;
  out.resize(bound);
  auto* base = reinterpret_cast<uint8_t*>(out.data());
  uint8_t* q = base + kBatchHeaderSize;
  const auto* r = reinterpret_cast<const uint8_t*>(v.records.data());
  for (uint32_t i = 0; i < v.count; ++i) {
    const uint32_t vlen = get_u32(r);
    const int64_t vl = static_cast<int64_t>(vlen);
    const size_t body = 1 + 1 + uvarint_size(i) + 1 + varint_size(vl) + vlen + 1;
    q = put_uvarint(q, body);
    *q++ = 0;                              // attributes
    *q++ = 0;                              // timestamp delta 0 (zig-zag)
    q = put_uvarint(q, i);                 // offset delta
    *q++ = 1;                              // key length -1 (zig-zag)
    q = put_uvarint(q, zigzag_encode(vl));
    std::memcpy(q, r + 4, vlen);
    q += vlen;
    *q++ = 0;                              // no headers
    r += 4 + vlen;
  }
  out.resize(static_cast<size_t>(q - base));
  BatchHeader h;
  h.base_offset = base_offset;
  h.last_offset_delta = v.count - 1;
  h.first_timestamp = now_us;
  h.max_timestamp = now_us;
  h.record_count = v.count;
  encode_batch_header(reinterpret_cast<uint8_t*>(out.data()), out.size(), h);
}

void encode_produce_v0_response(uint64_t base_offset, uint32_t record_count, std::string& frame) {
  uint8_t f[17];
  put_u32(f, 13);
  f[4] = static_cast<uint8_t>(MessageType::kProduce);
  put_u64(f + 5, base_offset);
  put_u32(f + 13, record_count);
  frame.assign(reinterpret_cast<const char*>(f), sizeof f);
}

}  // namespace rustlog::protocol
