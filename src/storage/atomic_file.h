#pragma once
// Crash-safe replacement of a whole file: write `<path>.tmp`, fsync it,
// rename over `path`, fsync the directory. After a crash the file is either
// the old or the new contents, never a mix; a leftover .tmp is garbage that
// recovery deletes (remove_temp_files).
#include <string>
#include <string_view>

#include "common/status.h"

namespace rustlog {

inline constexpr std::string_view kTempSuffix = ".tmp";

Status write_file_atomic(const std::string& path, std::string_view contents);

// Deletes every "*.tmp" directly inside `dir`; returns how many were removed.
Result<int> remove_temp_files(const std::string& dir);

}  // namespace rustlog
