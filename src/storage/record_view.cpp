#include "storage/record_view.h"

#include <limits>
#include <string>

#include "common/varint.h"

namespace rustlog {

namespace {
bool get_len(const uint8_t** p, const uint8_t* end, int64_t* len) {
  if (!get_varint(p, end, len)) return false;
  return *len >= -1 && *len <= end - *p;
}
}  // namespace

RecordWalker::RecordWalker(std::string_view batches, bool check_crc, size_t max_decompressed)
    : p_(reinterpret_cast<const uint8_t*>(batches.data())),
      end_(reinterpret_cast<const uint8_t*>(batches.data()) + batches.size()),
      check_crc_(check_crc),
      max_decompressed_(max_decompressed) {}

bool RecordWalker::fail(const std::string& what, ErrorCode code) {
  if (in_batch_)
    status_ = Status(code, "batch at offsets " + std::to_string(h_.base_offset) + ".." +
                               std::to_string(h_.last_offset()) + ": " + what);
  else
    status_ = Status(code, what);
  p_ = end_;
  in_batch_ = false;
  return false;
}

bool RecordWalker::start_batch() {
  const size_t left = static_cast<size_t>(end_ - p_);
  if (parse_batch_header(p_, left, &h_) != BatchError::kOk)
    return fail("buffer does not hold whole batches");
  in_batch_ = true;
  if (check_crc_ && !batch_crc_ok(p_, h_)) return fail("CRC mismatch");
  if ((h_.attributes & ~kBatchKnownAttributes) != 0) return fail("unknown batch attribute bits");
  const auto codec = codec_from_bits(h_.attributes & kBatchCompressionMask);
  if (!codec) return fail("unknown compression codec");
  cur_ = p_ + kBatchHeaderSize;
  bend_ = p_ + h_.total_size();
  next_batch_ = bend_;
  if (*codec != Codec::kNone) {
    // The CRC matched (or was checked by the reader): bytes that do not
    // decompress, or decompress to records that do not parse, were written
    // so, and are refused like any malformed batch.
    const std::string_view block(reinterpret_cast<const char*>(cur_), static_cast<size_t>(bend_ - cur_));
    if (Status st = decompress_block(*codec, block, max_decompressed_, &plain_); !st)
      return fail(st.message(), st.code());
    if (uint64_t{h_.record_count} * 7 > plain_.size()) return fail("record count larger than the records");
    cur_ = reinterpret_cast<const uint8_t*>(plain_.data());
    bend_ = cur_ + plain_.size();
  }
  index_ = 0;
  prev_delta_ = -1;
  max_ts_ = std::numeric_limits<int64_t>::min();
  return true;
}

bool RecordWalker::finish_batch() {
  if (cur_ != bend_) return fail("bytes after the last record");
  // A header-only batch (record_count 0, parse_batch_header checked it has
  // no body) has no record to match its last offset and max timestamp.
  if (h_.record_count > 0) {
    if (static_cast<uint64_t>(prev_delta_) != h_.last_offset_delta) return fail("last offset delta mismatch");
    if (max_ts_ != h_.max_timestamp) return fail("max timestamp mismatch");
  }
  p_ = next_batch_;
  in_batch_ = false;
  return true;
}

bool RecordWalker::next(RecordView* r) {
  if (!status_.is_ok()) return false;
  while (!in_batch_ || index_ == h_.record_count) {
    if (in_batch_ && !finish_batch()) return false;
    if (p_ == end_) return false;
    if (!start_batch()) return false;
  }
  uint64_t body;
  if (!get_uvarint(&cur_, bend_, &body) || body > static_cast<uint64_t>(bend_ - cur_))
    return fail("record length out of bounds");
  const uint8_t* rend = cur_ + body;
  if (cur_ >= rend || *cur_++ != 0) return fail("bad record attributes");
  int64_t ts_delta;
  uint64_t delta;
  if (!get_varint(&cur_, rend, &ts_delta) || !get_uvarint(&cur_, rend, &delta))
    return fail("bad record timestamp/offset");
  if (static_cast<int64_t>(delta) <= prev_delta_ || delta > h_.last_offset_delta)
    return fail("record offsets not increasing");
  prev_delta_ = static_cast<int64_t>(delta);
  r->offset = h_.base_offset + delta;
  // Wraps (mod 2^64) as BatchBuilder encoded it: any two timestamps of a
  // batch round-trip, and INT64_MAX next to INT64_MIN is no overflow.
  r->timestamp_us = static_cast<int64_t>(static_cast<uint64_t>(h_.first_timestamp) +
                                         static_cast<uint64_t>(ts_delta));
  if (r->timestamp_us > max_ts_) max_ts_ = r->timestamp_us;
  if (!get_len(&cur_, rend, &r->key_len)) return fail("bad key length");
  r->key_data = reinterpret_cast<const char*>(cur_);
  if (r->key_len > 0) cur_ += r->key_len;
  if (!get_len(&cur_, rend, &r->value_len)) return fail("bad value length");
  r->value_data = reinterpret_cast<const char*>(cur_);
  if (r->value_len > 0) cur_ += r->value_len;
  if (!get_uvarint(&cur_, rend, &r->header_count) || r->header_count > static_cast<uint64_t>(rend - cur_) / 2)
    return fail("bad header count");
  r->headers_data = reinterpret_cast<const char*>(cur_);
  for (uint64_t k = 0; k < r->header_count; ++k) {
    uint64_t nl, vl;
    if (!get_uvarint(&cur_, rend, &nl) || nl > static_cast<uint64_t>(rend - cur_)) return fail("bad header name");
    cur_ += nl;
    if (!get_uvarint(&cur_, rend, &vl) || vl > static_cast<uint64_t>(rend - cur_)) return fail("bad header value");
    cur_ += vl;
  }
  r->headers_len = static_cast<size_t>(cur_ - reinterpret_cast<const uint8_t*>(r->headers_data));
  if (cur_ != rend) return fail("record length mismatch");
  ++index_;
  return true;
}

Record to_record(const RecordView& v) {
  Record r;
  r.offset = v.offset;
  r.timestamp_us = v.timestamp_us;
  if (v.key_len >= 0) r.key.emplace(v.key_data, static_cast<size_t>(v.key_len));
  if (v.value_len >= 0) r.value.emplace(v.value_data, static_cast<size_t>(v.value_len));
  // The walker checked every length against the record's bounds.
  const auto* cur = reinterpret_cast<const uint8_t*>(v.headers_data);
  const uint8_t* end = cur + v.headers_len;
  r.headers.reserve(v.header_count);
  for (uint64_t k = 0; k < v.header_count; ++k) {
    uint64_t nl = 0, vl = 0;
    RecordHeader h;
    (void)get_uvarint(&cur, end, &nl);
    h.name.assign(reinterpret_cast<const char*>(cur), nl);
    cur += nl;
    (void)get_uvarint(&cur, end, &vl);
    h.value.assign(reinterpret_cast<const char*>(cur), vl);
    cur += vl;
    r.headers.push_back(std::move(h));
  }
  return r;
}

}  // namespace rustlog
