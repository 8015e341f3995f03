#pragma once
// The legacy (v0) Produce without the generic decoder: the payload is parsed
// in place (no std::string per record) and the batch is written in one pass
// into one buffer, byte for byte what BatchBuilder builds for the same values
// (timestamp = the broker's clock, no key, no headers).
//
// The fast parser accepts only payloads the generic decoder accepts too; for
// anything else (malformed, bad topic string, no records) it says no and the
// broker falls back to decode_request, so every error answer is unchanged.
#include <cstdint>
#include <string>
#include <string_view>

namespace rustlog {

struct LegacyProduce {
  std::string_view topic;
  uint32_t partition = 0;
  uint32_t count = 0;
  std::string_view records;  // count x (u32 length, value bytes), exactly
};

// `payload` = the frame without its length (type byte 0x01 first).
bool parse_legacy_produce(std::string_view payload, LegacyProduce* out);

// Replaces `out` with the whole batch (base offset 0: the log assigns it).
// `base_offset` is the offset the log will assign (its high watermark), so
// the CRC is computed once, here, and append() need not reseal the batch.
void build_legacy_batch(const LegacyProduce& p, int64_t now_us, std::string& out,
                        uint64_t base_offset = 0);

}  // namespace rustlog
