#include "admin/dump_format.h"

#include <cinttypes>
#include <cstdio>

#include "admin/text.h"

namespace rustlog::admin {
namespace {

std::string hex32(uint32_t v) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "0x%08" PRIx32, v);
  return buf;
}

std::string ts(int64_t us) { return std::to_string(us) + " (" + format_timestamp_us(us) + ")"; }

nlohmann::json nullable(const std::optional<std::string>& v) {
  if (!v) return nullptr;
  return escape_bytes(*v);
}

template <typename T>
nlohmann::json optional_number(const std::optional<T>& v) {
  if (!v) return nullptr;
  return *v;
}

}  // namespace

std::string format_batch_line(const DumpedBatch& b) {
  const BatchHeader& h = b.header;
  std::string s = "baseOffset: " + std::to_string(h.base_offset) +
                  " lastOffset: " + std::to_string(h.last_offset()) +
                  " count: " + std::to_string(h.record_count) +
                  " position: " + std::to_string(b.position) +
                  " size: " + std::to_string(h.total_size()) +
                  " magic: " + std::to_string(h.magic) +
                  " attributes: " + std::to_string(h.attributes) + " crc: " + hex32(h.crc) +
                  " crcValid: " + (b.crc_ok ? "true" : "false");
  if (!b.crc_ok) s += " computedCrc: " + hex32(b.computed_crc);
  if (const uint16_t bits = h.attributes & kBatchCompressionMask; bits != 0) {
    const auto codec = codec_from_bits(bits);
    s += std::string(" compression: ") + (codec ? codec_name(*codec) : "unknown");
  }
  // A batch a compaction pass rewrote with tombstones carries their delete
  // horizon where the first timestamp would be.
  s += (h.has_delete_horizon() ? " deleteHorizon: " : " firstTimestamp: ") + ts(h.first_timestamp) +
       " maxTimestamp: " + ts(h.max_timestamp);
  if (b.gap_before > 0) s += " gapBefore: " + std::to_string(b.gap_before);
  if (!b.decode_error.empty()) s += " decodeError: \"" + escape_bytes(b.decode_error) + "\"";
  return s;
}

std::string format_record_line(const Record& r) {
  std::string s = "| offset: " + std::to_string(r.offset) +
                  " timestamp: " + std::to_string(r.timestamp_us) +
                  " keySize: " + (r.key ? std::to_string(r.key->size()) : "-1") +
                  " valueSize: " + (r.value ? std::to_string(r.value->size()) : "-1") +
                  " key: " + quote_bytes(r.key) + " value: " + quote_bytes(r.value) + " headers: [";
  for (size_t i = 0; i < r.headers.size(); ++i) {
    if (i > 0) s += ", ";
    s += quote_bytes(r.headers[i].name) + ": " + quote_bytes(r.headers[i].value);
  }
  s += "]";
  return s;
}

std::string format_problem_line(const DumpProblem& p) { return "!! " + p.message; }

std::string format_summary_line(const DumpSummary& s) {
  std::string line = std::to_string(s.batches) + " batches, " + std::to_string(s.records) +
                     " records, " + std::to_string(s.problems) +
                     (s.problems == 1 ? " problem" : " problems");
  if (s.limited)
    line += " in the first " + std::to_string(s.end_position) + " of " +
            std::to_string(s.file_bytes) + " bytes (stopped by --max-batches)";
  else
    line += " in " + std::to_string(s.file_bytes) + " bytes";
  if (s.zero_tail_bytes > 0)
    line += " (the last " + std::to_string(s.zero_tail_bytes) + " preallocated, never written)";
  return line;
}

nlohmann::json record_to_json(const Record& r) {
  nlohmann::json headers = nlohmann::json::array();
  for (const auto& h : r.headers)
    headers.push_back({{"name", escape_bytes(h.name)}, {"value", escape_bytes(h.value)}});
  return {{"offset", r.offset},
          {"timestamp_us", r.timestamp_us},
          {"key", nullable(r.key)},
          {"value", nullable(r.value)},
          {"headers", std::move(headers)}};
}

nlohmann::json batch_to_json(const DumpedBatch& b, bool with_records) {
  const BatchHeader& h = b.header;
  nlohmann::json j = {{"position", b.position},
                      {"base_offset", h.base_offset},
                      {"last_offset", h.last_offset()},
                      {"record_count", h.record_count},
                      {"size", h.total_size()},
                      {"magic", h.magic},
                      {"attributes", h.attributes},
                      {"crc", h.crc},
                      {"computed_crc", b.computed_crc},
                      {"crc_ok", b.crc_ok},
                      {"compression", codec_name(codec_from_bits(h.attributes & kBatchCompressionMask)
                                                     .value_or(static_cast<Codec>(0xff)))},
                      {"first_timestamp_us", h.first_timestamp},
                      {"max_timestamp_us", h.max_timestamp},
                      {"delete_horizon_us", h.has_delete_horizon() ? nlohmann::json(h.first_timestamp) : nlohmann::json()},
                      {"gap_before", b.gap_before}};
  if (!b.decode_error.empty()) j["decode_error"] = b.decode_error;
  if (with_records) {
    nlohmann::json recs = nlohmann::json::array();
    for (const auto& r : b.records) recs.push_back(record_to_json(r));
    j["records"] = std::move(recs);
  }
  return j;
}

nlohmann::json problem_to_json(const DumpProblem& p) {
  return {{"position", p.position},
          {"resume_position", optional_number(p.resume_position)},
          {"first_offset", p.first_offset},
          {"resume_offset", optional_number(p.resume_offset)},
          {"message", p.message}};
}

nlohmann::json summary_to_json(const DumpSummary& s) {
  return {{"file", s.path},
          {"file_bytes", s.file_bytes},
          {"base_offset", optional_number(s.base_offset)},
          {"batches", s.batches},
          {"records", s.records},
          {"problems", s.problems},
          {"end_position", s.end_position},
          {"limited", s.limited},
          {"zero_tail_bytes", s.zero_tail_bytes}};
}

}  // namespace rustlog::admin
