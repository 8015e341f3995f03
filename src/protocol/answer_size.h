#pragma once
// The size of a fetch answer on the wire, from the sizes of the records it
// carries (docs/PROTOCOL.md: Fetch 0x02, FetchEx 0x12). The broker refuses
// a produce whose records no fetch answer could carry within
// max_frame_bytes, so that every acknowledged record can be read back.
// Sizes are frame payloads: the type byte and the body, without the u32
// length in front.
#include <cstddef>
#include <cstdint>
#include <optional>

namespace rustlog::protocol {

// Fetch (v0): type, u32 record_count, then per record u32 length + value,
// then u64 next_offset.
inline constexpr size_t kFetchAnswerFixedBytes = 1 + 4 + 8;
inline constexpr size_t fetch_record_bytes(size_t value_bytes) { return 4 + value_bytes; }

// FetchEx: type, u64 high_watermark, u64 log_start_offset, u32 record_count,
// the records, u64 next_offset.
inline constexpr size_t kFetchExAnswerFixedBytes = 1 + 8 + 8 + 4 + 8;
// One FetchEx record: u64 offset, i64 timestamp, key and value as i32
// length (-1 = null) + bytes, u32 header count, per header a u16-length name
// and a u32-length value. header_bytes: the names and values themselves.
inline constexpr size_t fetch_ex_record_bytes(std::optional<size_t> key, std::optional<size_t> value,
                                              size_t header_count, size_t header_bytes) {
  return 8 + 8 + 4 + key.value_or(0) + 4 + value.value_or(0) + 4 + header_count * (2 + 4) + header_bytes;
}

// The largest key + value a lone record without headers may have for its
// FetchEx answer to fit in max_frame_bytes.
inline constexpr size_t max_fetchable_record_bytes(uint32_t max_frame_bytes) {
  const size_t overhead = kFetchExAnswerFixedBytes + fetch_ex_record_bytes(0, 0, 0, 0);
  return max_frame_bytes > overhead ? max_frame_bytes - overhead : 0;
}

}  // namespace rustlog::protocol
