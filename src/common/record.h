#pragma once
// A record as producers and consumers see it. Null and empty are different:
// a null key is "no key"; a null value is a tombstone (deletes the key under
// compaction). Both round-trip through the batch format and the wire.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace rustlog {

struct RecordHeader {
  std::string name;   // UTF-8
  std::string value;  // arbitrary bytes
  bool operator==(const RecordHeader&) const = default;
};

struct Record {
  uint64_t offset = 0;
  int64_t timestamp_us = 0;  // microseconds since the Unix epoch
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<RecordHeader> headers;
  bool operator==(const Record&) const = default;
};

}  // namespace rustlog
