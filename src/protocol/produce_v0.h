#pragma once
// The v0 Produce codec of the fast path: the request is parsed in place (no
// std::string per record), its batch is written in one pass into one buffer,
// and the ProduceResponse frame is written without the generic encoder.
//
// The batch is byte for byte what storage's BatchBuilder builds for the same
// values (timestamp = the broker's clock, no key, no headers); its header is
// written by encode_batch_header (common/batch_header.h), the one encoder of
// batch headers. The parser accepts only payloads the generic decoder accepts
// too; for anything else (malformed, bad topic string, no records) it says no
// and the caller falls back to decode_request, so every error answer is
// unchanged.
#include <cstdint>
#include <string>
#include <string_view>

namespace rustlog::protocol {

struct ProduceV0 {
  std::string_view topic;
  uint32_t partition = 0;
  uint32_t count = 0;
  std::string_view records;  // count x (u32 length, value bytes), exactly
};

// `payload` = the frame without its length (type byte 0x01 first).
bool parse_produce_v0(std::string_view payload, ProduceV0* out);

// Replaces `out` with the whole batch. `base_offset` is the offset the log
// will assign (its high watermark), so the CRC is computed once, here, and
// the log need not reseal the batch.
void build_produce_v0_batch(const ProduceV0& p, int64_t now_us, std::string& out, uint64_t base_offset = 0);

// Replaces `frame` with the ProduceResponse frame: u32 length 13, type 0x01,
// u64 base_offset, u32 record_count (the bytes encode_response writes).
void encode_produce_v0_response(uint64_t base_offset, uint32_t record_count, std::string& frame);

}  // namespace rustlog::protocol
