#include "storage/recovery_checkpoint.h"

#include <charconv>
#include <sstream>

#include "storage/atomic_file.h"
#include "storage/file.h"

namespace rustlog {

std::string encode_recovery_points(const RecoveryPoints& points) {
  std::string out = "0\n" + std::to_string(points.size()) + "\n";
  for (const auto& [name, off] : points) out += name + " " + std::to_string(off) + "\n";
  return out;
}

Result<RecoveryPoints> decode_recovery_points(const std::string& text) {
  std::istringstream in(text);
  int version = -1;
  size_t n = 0;
  auto bad = [](const std::string& why) {
    return Status(ErrorCode::kCorruptRecord, "malformed recovery checkpoint: " + why);
  };
  if (!(in >> version) || version != 0) return bad("unknown version");
  if (!(in >> n)) return bad("missing entry count");
  RecoveryPoints points;
  for (size_t i = 0; i < n; ++i) {
    std::string name, num;
    uint64_t off = 0;
    if (!(in >> name >> num)) return bad("entry " + std::to_string(i) + " unreadable");
    // from_chars, not operator>>: the stream would accept "-5" as 2^64 - 5.
    auto [end, ec] = std::from_chars(num.data(), num.data() + num.size(), off);
    if (ec != std::errc() || end != num.data() + num.size())
      return bad("entry " + std::to_string(i) + " has a bad offset '" + num + "'");
    points[name] = off;
  }
  std::string extra;
  if (in >> extra) return bad("trailing data");
  return points;
}

Result<RecoveryPoints> read_recovery_points(const std::string& data_dir) {
  const std::string path = data_dir + "/" + kRecoveryCheckpointFile;
  if (!path_exists(path)) return RecoveryPoints{};
  auto text = read_file(path);
  if (!text) return text.status();
  return decode_recovery_points(*text);
}

Status write_recovery_points(const std::string& data_dir, const RecoveryPoints& points) {
  return write_file_atomic(data_dir + "/" + kRecoveryCheckpointFile, encode_recovery_points(points));
}

}  // namespace rustlog
