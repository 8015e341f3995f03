#pragma once
// Thin RAII wrapper over a POSIX file descriptor, and the path operations
// storage uses. Every call returns a Status naming the path and errno; ENOSPC
// maps to kInsufficientSpace, other I/O failures to kStorageError. This is the
// I/O seam: writes and syncs pass through fault injection, and every change
// to the file system (data, syncs, creates, renames, unlinks, mkdirs) is
// reported to the recorder of fault_injection.h when one is installed.
#include <cstdint>
#include <string>
#include <string_view>

#include "common/status.h"

namespace rustlog {

class File {
 public:
  File() = default;
  File(File&& o) noexcept : fd_(o.fd_), path_(std::move(o.path_)) { o.fd_ = -1; }
  File& operator=(File&& o) noexcept;
  File(const File&) = delete;
  File& operator=(const File&) = delete;
  ~File();

  // flags as for open(2); O_CLOEXEC is always added.
  static Result<File> open(const std::string& path, int flags, int mode = 0644);

  bool is_open() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

  Status write_all(std::string_view data);  // at the current position
  Status pwrite_all(std::string_view data, uint64_t offset);
  // Writes n zero bytes at offset (a segment's preallocation: blocks really
  // written, unlike fallocate's unwritten extents). Fault op kPreallocate;
  // recorded as writes of zeros. A failure may leave part of them written.
  Status write_zeros(uint64_t offset, uint64_t n);
  Status pread_exact(void* dst, size_t n, uint64_t offset) const;
  Status datasync();
  Status sync();
  Status truncate(uint64_t size);
  Status seek_end(uint64_t* size_out = nullptr);
  Result<uint64_t> size() const;
  void close();

 private:
  int fd_ = -1;
  std::string path_;
};

Status io_error(const std::string& what, const std::string& path, int err);

// Directory and path helpers (each change goes through the seam).
Status fsync_dir(const std::string& dir);
Status rename_path(const std::string& from, const std::string& to);  // rename(2)
Status remove_file(const std::string& path);  // unlink(2); an absent file is fine
Status make_dirs(const std::string& path);    // mkdir -p
Status remove_tree(const std::string& path);  // rm -r; an absent path is fine
Result<std::string> read_file(const std::string& path);
bool path_exists(const std::string& path);

}  // namespace rustlog
