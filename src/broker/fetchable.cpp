#include "broker/fetchable.h"

#include <algorithm>
#include <string>

#include "common/varint.h"
#include "protocol/answer_size.h"
#include "storage/record_view.h"

namespace rustlog {

namespace {
// The names and values of a record's headers without their varint lengths.
size_t header_payload(const RecordView& r) {
  const auto* p = reinterpret_cast<const uint8_t*>(r.headers_data);
  const uint8_t* end = p + r.headers_len;
  size_t varints = 0;
  for (uint64_t i = 0; i < 2 * r.header_count; ++i) {
    const uint8_t* at = p;
    uint64_t len = 0;
    if (!get_uvarint(&p, end, &len) || len > static_cast<uint64_t>(end - p)) return r.headers_len;
    varints += static_cast<size_t>(p - at);
    p += len;
  }
  return r.headers_len - varints;
}

std::optional<size_t> length(int64_t n) {
  return n < 0 ? std::nullopt : std::optional<size_t>(static_cast<size_t>(n));
}
}  // namespace

FetchableCounter::FetchableCounter() : fetch_ex_(protocol::kFetchExAnswerFixedBytes) {}

void FetchableCounter::add(const RecordView& r) {
  fetch_ex_ += protocol::fetch_ex_record_bytes(length(r.key_len), length(r.value_len), r.header_count,
                                               header_payload(r));
  largest_value_ = std::max<uint64_t>(largest_value_, r.value_or_empty().size());
}

Status FetchableCounter::check(uint32_t record_count, uint32_t max_frame_bytes) const {
  using namespace protocol;
  const uint64_t fetch = kFetchAnswerFixedBytes + fetch_record_bytes(largest_value_);
  if (fetch_ex_ <= max_frame_bytes && fetch <= max_frame_bytes) return Status::ok();
  const std::string limit = " bytes, above max_frame_bytes " + std::to_string(max_frame_bytes);
  const std::string what = "these " + std::to_string(record_count) + " records could be acknowledged but never fetched: ";
  const std::string fix = "; send fewer or smaller records per request (a lone record without headers may carry at most " +
                          std::to_string(max_fetchable_record_bytes(max_frame_bytes)) + " bytes of key and value)";
  if (fetch_ex_ > max_frame_bytes)
    return Status(ErrorCode::kTooLarge, what + "the FetchEx answer holding them would take " +
                                            std::to_string(fetch_ex_) + limit + fix);
  return Status(ErrorCode::kTooLarge, what + "the Fetch answer holding the largest value would take " +
                                          std::to_string(fetch) + limit + fix);
}

Status check_fetchable(std::string_view batch, uint32_t record_count, uint32_t max_frame_bytes) {
  // A FetchEx record takes at most 4 times its bytes in a plain batch (28
  // fixed bytes against at least 7), a v0 one fewer: small batches always fit.
  if (batch.size() <= (max_frame_bytes - protocol::kFetchExAnswerFixedBytes) / 4) return Status::ok();
  RecordWalker w(batch, /*check_crc=*/false);
  RecordView r;
  FetchableCounter counter;
  while (w.next(&r)) counter.add(r);
  RUSTLOG_RETURN_IF_ERROR(w.status());
  return counter.check(record_count, max_frame_bytes);
}

}  // namespace rustlog
