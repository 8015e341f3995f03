#pragma once
// The partition's cleaner checkpoint: `<dir>/cleaner-offset-checkpoint`, the
// first dirty offset (everything below it was cleaned by a finished pass),
// one decimal number and a newline, replaced through write_file_atomic after
// each pass. Absent: nothing was cleaned yet (first dirty = log start).
#include <cstdint>
#include <optional>
#include <string>

#include "common/status.h"

namespace rustlog {

inline constexpr const char* kCleanerCheckpointFile = "cleaner-offset-checkpoint";

// nullopt when the file is absent; kCorruptRecord when it holds no offset.
Result<std::optional<uint64_t>> read_cleaner_checkpoint(const std::string& partition_dir);
Status write_cleaner_checkpoint(const std::string& partition_dir, uint64_t first_dirty);

}  // namespace rustlog
