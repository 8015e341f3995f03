#include "common/batch_builder.h"

#include <algorithm>

#include "common/batch_header.h"
#include "common/varint.h"

namespace rustlog {

// Record layout (inside a batch, after the header):
//   uvarint body_length
//   body: u8 attributes (0) | varint timestamp_delta (vs first_timestamp)
//         | uvarint offset_delta | varint key_length (-1 = null) | key
//         | varint value_length (-1 = null) | value
//         | uvarint header_count | header_count x (uvarint name_length | name
//                                                  | uvarint value_length | value)

BatchBuilder::BatchBuilder(uint64_t base_offset) : base_offset_(base_offset) {
  buf_.resize(kBatchHeaderSize);
}

void BatchBuilder::set_delete_horizon(int64_t horizon_us) {
  horizon_ = true;
  first_ts_ = horizon_us;
}

namespace {

std::optional<std::string_view> view(const std::optional<std::string>& s) {
  if (!s) return std::nullopt;
  return std::string_view(*s);
}

}  // namespace

void BatchBuilder::add(int64_t ts, const std::optional<std::string>& key,
                       const std::optional<std::string>& value,
                       const std::vector<RecordHeader>& headers) {
  add_impl(count_ == 0 ? 0 : last_delta_ + 1, ts, view(key), view(value), headers);
}

void BatchBuilder::add_ref(int64_t ts, std::optional<std::string_view> key, std::optional<std::string_view> value,
                           const std::vector<HeaderRef>& headers) {
  add_impl(count_ == 0 ? 0 : last_delta_ + 1, ts, key, value, headers);
}

void BatchBuilder::add_with_offset(const Record& r) {
  add_impl(static_cast<uint32_t>(r.offset - base_offset_), r.timestamp_us, view(r.key), view(r.value),
           r.headers);
}

template <class Headers>
void BatchBuilder::add_impl(uint32_t delta, int64_t ts, std::optional<std::string_view> key,
                            std::optional<std::string_view> value, const Headers& headers) {
  if (count_ == 0) {
    if (!horizon_) first_ts_ = ts;  // with a horizon, deltas are from it
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

std::string BatchBuilder::finish(const Compression& compression) {
  BatchHeader h;
  h.base_offset = base_offset_;
  h.last_offset_delta = last_delta_;
  h.first_timestamp = first_ts_;
  h.max_timestamp = max_ts_;
  h.record_count = count_;
  h.attributes = horizon_ ? kBatchDeleteHorizonFlag : 0;
  if (compression.codec != Codec::kNone && count_ > 0) {
    block_.clear();
    const std::string_view records = std::string_view(buf_).substr(kBatchHeaderSize);
    // A codec failure (only allocation can fail) or a block that does not
    // shrink leaves the records as they are: still a valid batch.
    if (compress_block(compression, records, &block_).is_ok() && block_.size() < records.size()) {
      buf_.resize(kBatchHeaderSize);
      buf_.append(block_);
      h.attributes |= static_cast<uint16_t>(compression.codec);
    }
    if (block_.capacity() > (4u << 20)) std::string().swap(block_);
  }
  encode_batch_header(reinterpret_cast<uint8_t*>(buf_.data()), buf_.size(), h);
  std::string out = std::move(buf_);
  buf_.assign(kBatchHeaderSize, '\0');
  count_ = 0;
  last_delta_ = 0;
  horizon_ = false;
  return out;
}

}  // namespace rustlog
