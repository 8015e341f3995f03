#include "storage/cleaner_checkpoint.h"

#include <charconv>

#include "storage/atomic_file.h"
#include "storage/file.h"

namespace rustlog {

Result<std::optional<uint64_t>> read_cleaner_checkpoint(const std::string& dir) {
  const std::string path = dir + "/" + kCleanerCheckpointFile;
  if (!path_exists(path)) return std::optional<uint64_t>();
  auto text = read_file(path);
  if (!text) return text.status();
  uint64_t v = 0;
  const char* end = text->data() + text->size();
  auto [p, ec] = std::from_chars(text->data(), end, v);
  if (ec != std::errc() || p == text->data() || p + 1 != end || *p != '\n')
    return Status(ErrorCode::kCorruptRecord,
                  path + " does not hold an offset (got '" + *text +
                      "'); remove it: the cleaner then cleans the partition again from its log start");
  return std::optional<uint64_t>(v);
}

Status write_cleaner_checkpoint(const std::string& dir, uint64_t first_dirty) {
  return write_file_atomic(dir + "/" + kCleanerCheckpointFile, std::to_string(first_dirty) + "\n");
}

}  // namespace rustlog
