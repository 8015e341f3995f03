#pragma once
// The byte layout of topics.log, the append-only log of topic metadata
// changes since the last topics.json snapshot (docs/STORAGE.md, "Topic
// metadata"). Bytes only: no file I/O (topic_metadata.h does that).
//
//   header (16 bytes, written once, atomically):
//     0  8  magic "RLTOPICS"
//     8  8  generation (u64, big-endian): the "log_generation" of the
//           topics.json this log continues
//   record (repeated):
//     0  4  length L of what follows the CRC (u32, big-endian), 3..65536
//     4  4  CRC-32C of those L bytes
//     8  1  type: 1 = topic set (created or changed), 2 = topic deleted
//     9  2  name length N (u16)
//    11  N  topic name
//  11+N  .. type 1: the topic's entry as in topics.json (a JSON object); type 2: nothing
//
// Reading (scan_metadata_log): a record cut short by the end of the file,
// a zero-filled tail, or a last record whose CRC fails is a torn tail
// (the write was never acknowledged) and ends the log; a CRC or length
// failure with bytes after it is corruption and fails the scan.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace rustlog {

inline constexpr std::string_view kMetadataLogMagic = "RLTOPICS";
inline constexpr size_t kMetadataLogHeaderBytes = 16;
inline constexpr size_t kMetadataRecordHeaderBytes = 8;  // length + CRC
inline constexpr uint32_t kMaxMetadataRecord = 64u << 10;  // a name and a few config keys need < 2 KiB

struct MetadataRecord {
  enum class Type : uint8_t { kSet = 1, kDelete = 2 };
  Type type = Type::kSet;
  std::string name;
  std::string config_json;  // kSet only
  bool operator==(const MetadataRecord&) const = default;
};

std::string encode_metadata_log_header(uint64_t generation);
std::string encode_metadata_record(const MetadataRecord& r);

struct MetadataLogScan {
  uint64_t generation = 0;
  std::vector<MetadataRecord> records;
  uint64_t valid_end = 0;   // bytes of header and whole records
  uint64_t torn_bytes = 0;  // after valid_end: a torn tail, dropped
};

// StorageError naming the byte position for a bad header or corruption.
Result<MetadataLogScan> scan_metadata_log(std::string_view bytes);

}  // namespace rustlog
