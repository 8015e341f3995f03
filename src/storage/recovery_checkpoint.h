#pragma once
// The per-data-directory recovery-point checkpoint: for each partition
// directory, the offset below which everything is known to be fsynced, so
// recovery rescans only from there. Text format (docs/STORAGE.md):
//
//   line 1: "0"                      (format version)
//   line 2: N                        (number of entries)
//   N lines: "<partition-dir-name> <offset>"
//
// Written through write_file_atomic; a missing file means "scan everything".
#include <cstdint>
#include <map>
#include <string>

#include "common/status.h"

namespace rustlog {

inline constexpr const char* kRecoveryCheckpointFile = "recovery-point-offset-checkpoint";

using RecoveryPoints = std::map<std::string, uint64_t>;

std::string encode_recovery_points(const RecoveryPoints& points);
Result<RecoveryPoints> decode_recovery_points(const std::string& text);

// Reads `<data_dir>/recovery-point-offset-checkpoint`; an absent file is an
// empty map, a malformed one is an error the caller logs before treating it
// as empty (a full rescan is always safe).
Result<RecoveryPoints> read_recovery_points(const std::string& data_dir);
Status write_recovery_points(const std::string& data_dir, const RecoveryPoints& points);

}  // namespace rustlog
