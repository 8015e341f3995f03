#include "storage/atomic_file.h"

#include <fcntl.h>

#include <unistd.h>

#include <cerrno>
#include <filesystem>

#include "storage/file.h"

namespace rustlog {

Status write_file_atomic(const std::string& path, std::string_view contents) {
  const std::string tmp = path + std::string(kTempSuffix);
  {
    auto f = File::open(tmp, O_WRONLY | O_CREAT | O_TRUNC);
    if (!f) return f.status();
    Status st = f->write_all(contents);
    if (st) st = f->sync();
    if (!st) {
      f->close();
      (void)remove_file(tmp);
      return st;
    }
  }
  if (Status st = rename_path(tmp, path); !st) {
    (void)remove_file(tmp);
    return st;
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  return fsync_dir(dir.empty() ? "." : dir);
}

Result<int> remove_temp_files(const std::string& dir) {
  std::error_code ec;
  int removed = 0;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.size() > kTempSuffix.size() &&
        name.compare(name.size() - kTempSuffix.size(), kTempSuffix.size(), kTempSuffix) == 0) {
      RUSTLOG_RETURN_IF_ERROR(remove_file(e.path().string()));
      ++removed;
    }
  }
  if (ec) return Status(ErrorCode::kStorageError, "cannot list " + dir + ": " + ec.message());
  return removed;
}

}  // namespace rustlog
