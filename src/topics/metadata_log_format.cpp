#include "topics/metadata_log_format.h"

#include <algorithm>

#include "common/byte_order.h"
#include "common/crc32c.h"

namespace rustlog {

namespace {

const uint8_t* u8(std::string_view s, size_t at) { return reinterpret_cast<const uint8_t*>(s.data()) + at; }

bool all_zero(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == 0; });
}

}  // namespace

std::string encode_metadata_log_header(uint64_t generation) {
  std::string out(kMetadataLogMagic);
  out.resize(kMetadataLogHeaderBytes);
  put_u64(reinterpret_cast<uint8_t*>(out.data()) + kMetadataLogMagic.size(), generation);
  return out;
}

std::string encode_metadata_record(const MetadataRecord& r) {
  const std::string_view cfg = r.type == MetadataRecord::Type::kSet ? std::string_view(r.config_json) : "";
  const size_t body = 1 + 2 + r.name.size() + cfg.size();
  std::string out(kMetadataRecordHeaderBytes + body, '\0');
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  put_u32(p, static_cast<uint32_t>(body));
  p[8] = static_cast<uint8_t>(r.type);
  put_u16(p + 9, static_cast<uint16_t>(r.name.size()));
  std::copy(r.name.begin(), r.name.end(), out.begin() + 11);
  std::copy(cfg.begin(), cfg.end(), out.begin() + 11 + static_cast<std::ptrdiff_t>(r.name.size()));
  put_u32(p + 4, crc32c(p + 8, body));
  return out;
}

Result<MetadataLogScan> scan_metadata_log(std::string_view bytes) {
  if (bytes.size() < kMetadataLogHeaderBytes || bytes.substr(0, kMetadataLogMagic.size()) != kMetadataLogMagic)
    return Status(ErrorCode::kStorageError, "no topic metadata log header (magic RLTOPICS) at byte 0");
  MetadataLogScan scan;
  scan.generation = get_u64(u8(bytes, kMetadataLogMagic.size()));
  size_t pos = kMetadataLogHeaderBytes;
  auto corrupt = [&](const std::string& why) {
    return Status(ErrorCode::kStorageError, "corrupt record at byte " + std::to_string(pos) + ": " + why);
  };
  while (pos < bytes.size()) {
    const std::string_view rest = bytes.substr(pos);
    if (rest.size() < kMetadataRecordHeaderBytes || all_zero(rest)) break;  // torn tail
    const uint32_t len = get_u32(u8(bytes, pos));
    if (len < 3 || len > kMaxMetadataRecord) return corrupt("length " + std::to_string(len));
    if (rest.size() - kMetadataRecordHeaderBytes < len) break;  // cut short: torn tail
    const uint8_t* body = u8(bytes, pos + kMetadataRecordHeaderBytes);
    const bool last = rest.size() == kMetadataRecordHeaderBytes + len;
    if (crc32c(body, len) != get_u32(u8(bytes, pos + 4))) {
      if (last) break;  // the last write, never acknowledged
      return corrupt("CRC mismatch");
    }
    MetadataRecord r;
    const uint16_t name_len = get_u16(body + 1);
    if (body[0] != 1 && body[0] != 2) return corrupt("unknown type " + std::to_string(body[0]));
    if (3u + name_len > len) return corrupt("name length " + std::to_string(name_len));
    r.type = static_cast<MetadataRecord::Type>(body[0]);
    r.name.assign(reinterpret_cast<const char*>(body + 3), name_len);
    if (r.type == MetadataRecord::Type::kSet)
      r.config_json.assign(reinterpret_cast<const char*>(body + 3 + name_len), len - 3 - name_len);
    else if (3u + name_len != len)
      return corrupt("a delete record with trailing bytes");
    scan.records.push_back(std::move(r));
    pos += kMetadataRecordHeaderBytes + len;
  }
  scan.valid_end = pos;
  scan.torn_bytes = bytes.size() - pos;
  return scan;
}

}  // namespace rustlog
