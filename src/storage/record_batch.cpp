#include "storage/record_batch.h"

#include <algorithm>
#include <limits>

#include "common/byte_order.h"
#include "common/crc32c.h"
#include "common/varint.h"

namespace rustlog {

// Record layout (inside a batch, after the header):
//   uvarint body_length
//   body: u8 attributes (0) | varint timestamp_delta (vs first_timestamp)
//         | uvarint offset_delta | varint key_length (-1 = null) | key
//         | varint value_length (-1 = null) | value
//         | uvarint header_count | header_count x (uvarint name_length | name
//                                                  | uvarint value_length | value)

HeaderCheck parse_batch_header(const uint8_t* p, size_t n, BatchHeader* h) {
  if (n < kBatchLogOverhead) return HeaderCheck::kIncomplete;
  h->base_offset = get_u64(p);
  h->batch_length = get_u32(p + 8);
  if (h->batch_length < kBatchHeaderSize - kBatchLogOverhead || h->batch_length > kMaxBatchBytes)
    return HeaderCheck::kInvalid;
  if (n < kBatchHeaderSize) return HeaderCheck::kIncomplete;
  h->magic = p[12];
  if (h->magic != kBatchMagic) return HeaderCheck::kInvalid;
  h->crc = get_u32(p + 13);
  h->attributes = get_u16(p + 17);
  h->last_offset_delta = get_u32(p + 19);
  h->first_timestamp = static_cast<int64_t>(get_u64(p + 23));
  h->max_timestamp = static_cast<int64_t>(get_u64(p + 31));
  h->record_count = get_u32(p + 39);
  // Each record needs at least 7 bytes (length, attrs, ts, delta, key, value, hdrs).
  const uint64_t body = h->batch_length - (kBatchHeaderSize - kBatchLogOverhead);
  if (h->record_count == 0 || uint64_t{h->record_count} * 7 > body) return HeaderCheck::kInvalid;
  if (h->last_offset_delta < h->record_count - 1) return HeaderCheck::kInvalid;
  if (h->base_offset > std::numeric_limits<uint64_t>::max() - h->last_offset_delta - 1)
    return HeaderCheck::kInvalid;
  if (n < h->total_size()) return HeaderCheck::kIncomplete;
  return HeaderCheck::kOk;
}

uint32_t compute_batch_crc(const uint8_t* p, size_t n) {
  return crc32c(p + kBatchCrcStart, n - kBatchCrcStart, crc32c(p, kBatchCrcOffset));
}

bool batch_crc_ok(const uint8_t* p, const BatchHeader& h) {
  return compute_batch_crc(p, h.total_size()) == h.crc;
}

void assign_base_offset(uint8_t* p, size_t n, uint64_t base_offset) {
  put_u64(p, base_offset);
  put_u32(p + kBatchCrcOffset, compute_batch_crc(p, n));
}

BatchBuilder::BatchBuilder(uint64_t base_offset) : base_offset_(base_offset) {
  buf_.resize(kBatchHeaderSize);
}

void BatchBuilder::add(int64_t ts, const std::optional<std::string>& key,
                       const std::optional<std::string>& value,
                       const std::vector<RecordHeader>& headers) {
  add_impl(count_ == 0 ? 0 : last_delta_ + 1, ts, key, value, headers);
}

void BatchBuilder::add_with_offset(const Record& r) {
  add_impl(static_cast<uint32_t>(r.offset - base_offset_), r.timestamp_us, r.key, r.value,
           r.headers);
}

void BatchBuilder::add_impl(uint32_t delta, int64_t ts, const std::optional<std::string>& key,
                            const std::optional<std::string>& value,
                            const std::vector<RecordHeader>& headers) {
  if (count_ == 0) {
    first_ts_ = ts;
    max_ts_ = ts;
  }
  max_ts_ = std::max(max_ts_, ts);
  // Wraps (mod 2^64) instead of overflowing; decode_batch adds it back the
  // same way, so any two timestamps round-trip.
  const int64_t ts_delta =
      static_cast<int64_t>(static_cast<uint64_t>(ts) - static_cast<uint64_t>(first_ts_));
  const int64_t klen = key ? static_cast<int64_t>(key->size()) : -1;
  const int64_t vlen = value ? static_cast<int64_t>(value->size()) : -1;
  size_t body = 1 + varint_size(ts_delta) + uvarint_size(delta) + varint_size(klen) +
                (key ? key->size() : 0) + varint_size(vlen) + (value ? value->size() : 0) +
                uvarint_size(headers.size());
  for (const auto& h : headers)
    body += uvarint_size(h.name.size()) + h.name.size() + uvarint_size(h.value.size()) +
            h.value.size();
  buf_.reserve(buf_.size() + body + 5);
  put_uvarint(buf_, body);
  buf_.push_back(0);
  put_varint(buf_, ts_delta);
  put_uvarint(buf_, delta);
  put_varint(buf_, klen);
  if (key) buf_.append(*key);
  put_varint(buf_, vlen);
  if (value) buf_.append(*value);
  put_uvarint(buf_, headers.size());
  for (const auto& h : headers) {
    put_uvarint(buf_, h.name.size());
    buf_.append(h.name);
    put_uvarint(buf_, h.value.size());
    buf_.append(h.value);
  }
  last_delta_ = delta;
  ++count_;
}

std::string BatchBuilder::finish() {
  auto* p = reinterpret_cast<uint8_t*>(buf_.data());
  put_u64(p, base_offset_);
  put_u32(p + 8, static_cast<uint32_t>(buf_.size() - kBatchLogOverhead));
  p[12] = kBatchMagic;
  put_u16(p + 17, 0);
  put_u32(p + 19, last_delta_);
  put_u64(p + 23, static_cast<uint64_t>(first_ts_));
  put_u64(p + 31, static_cast<uint64_t>(max_ts_));
  put_u32(p + 39, count_);
  put_u32(p + kBatchCrcOffset, compute_batch_crc(p, buf_.size()));
  std::string out = std::move(buf_);
  buf_.assign(kBatchHeaderSize, '\0');
  count_ = 0;
  last_delta_ = 0;
  return out;
}

namespace {

Status corrupt(const BatchHeader& h, const char* what) {
  return Status(ErrorCode::kCorruptRecord,
                "batch at offsets " + std::to_string(h.base_offset) + ".." +
                    std::to_string(h.last_offset()) + ": " + what);
}

bool get_len(const uint8_t** p, const uint8_t* end, int64_t* len) {
  if (!get_varint(p, end, len)) return false;
  return *len >= -1 && *len <= end - *p;
}

}  // namespace

Status decode_batch(const uint8_t* p, size_t n, BatchHeader* hp, std::vector<Record>* records) {
  BatchHeader local;
  BatchHeader& h = hp ? *hp : local;
  switch (parse_batch_header(p, n, &h)) {
    case HeaderCheck::kOk: break;
    case HeaderCheck::kIncomplete:
      return Status(ErrorCode::kCorruptRecord, "truncated batch: " + std::to_string(n) + " bytes");
    case HeaderCheck::kInvalid: return Status(ErrorCode::kCorruptRecord, "invalid batch header");
  }
  if (n != h.total_size()) return corrupt(h, "trailing bytes after batch");
  if (!batch_crc_ok(p, h)) return corrupt(h, "CRC mismatch");
  if (h.attributes != 0) return corrupt(h, "unsupported compression codec");
  const uint8_t* cur = p + kBatchHeaderSize;
  const uint8_t* end = p + n;
  int64_t max_ts = std::numeric_limits<int64_t>::min();
  int64_t prev_delta = -1;
  for (uint32_t i = 0; i < h.record_count; ++i) {
    uint64_t body;
    if (!get_uvarint(&cur, end, &body) || body > static_cast<uint64_t>(end - cur))
      return corrupt(h, "record length out of bounds");
    const uint8_t* rend = cur + body;
    if (cur >= rend || *cur++ != 0) return corrupt(h, "bad record attributes");
    int64_t ts_delta, klen, vlen;
    uint64_t delta, hcount;
    if (!get_varint(&cur, rend, &ts_delta) || !get_uvarint(&cur, rend, &delta))
      return corrupt(h, "bad record timestamp/offset");
    if (static_cast<int64_t>(delta) <= prev_delta || delta > h.last_offset_delta)
      return corrupt(h, "record offsets not increasing");
    prev_delta = static_cast<int64_t>(delta);
    Record r;
    r.offset = h.base_offset + delta;
    r.timestamp_us = static_cast<int64_t>(static_cast<uint64_t>(h.first_timestamp) +
                                          static_cast<uint64_t>(ts_delta));  // see add_impl
    max_ts = std::max(max_ts, r.timestamp_us);
    if (!get_len(&cur, rend, &klen)) return corrupt(h, "bad key length");
    if (klen >= 0) r.key.emplace(reinterpret_cast<const char*>(cur), klen), cur += klen;
    if (!get_len(&cur, rend, &vlen)) return corrupt(h, "bad value length");
    if (vlen >= 0) r.value.emplace(reinterpret_cast<const char*>(cur), vlen), cur += vlen;
    if (!get_uvarint(&cur, rend, &hcount) || hcount > static_cast<uint64_t>(rend - cur) / 2)
      return corrupt(h, "bad header count");
    r.headers.reserve(hcount);
    for (uint64_t k = 0; k < hcount; ++k) {
      uint64_t nl, vl;
      RecordHeader hdr;
      if (!get_uvarint(&cur, rend, &nl) || nl > static_cast<uint64_t>(rend - cur))
        return corrupt(h, "bad header name");
      hdr.name.assign(reinterpret_cast<const char*>(cur), nl);
      cur += nl;
      if (!get_uvarint(&cur, rend, &vl) || vl > static_cast<uint64_t>(rend - cur))
        return corrupt(h, "bad header value");
      hdr.value.assign(reinterpret_cast<const char*>(cur), vl);
      cur += vl;
      r.headers.push_back(std::move(hdr));
    }
    if (cur != rend) return corrupt(h, "record length mismatch");
    if (records) records->push_back(std::move(r));
  }
  if (cur != end) return corrupt(h, "bytes after the last record");
  if (static_cast<uint64_t>(prev_delta) != h.last_offset_delta)
    return corrupt(h, "last offset delta mismatch");
  if (max_ts != h.max_timestamp) return corrupt(h, "max timestamp mismatch");
  return Status::ok();
}

Status decode_batches(std::string_view data, uint64_t min_offset, std::vector<Record>* out) {
  const auto* p = reinterpret_cast<const uint8_t*>(data.data());
  size_t left = data.size();
  std::vector<Record> tmp;
  while (left > 0) {
    BatchHeader h;
    if (parse_batch_header(p, left, &h) != HeaderCheck::kOk)
      return Status(ErrorCode::kCorruptRecord, "buffer does not hold whole batches");
    tmp.clear();
    RUSTLOG_RETURN_IF_ERROR(decode_batch(p, h.total_size(), &h, &tmp));
    for (auto& r : tmp)
      if (r.offset >= min_offset) out->push_back(std::move(r));
    p += h.total_size();
    left -= h.total_size();
  }
  return Status::ok();
}

}  // namespace rustlog
