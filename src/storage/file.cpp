#include "storage/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <vector>

#include "storage/fault_injection.h"

namespace rustlog {

namespace {
// Recording (tests only: a recorder is installed).
uint64_t inode_of(int fd) {
  struct stat st;
  return ::fstat(fd, &st) == 0 ? static_cast<uint64_t>(st.st_ino) : 0;
}

bool is_dir_fd(int fd) {
  struct stat st;
  return ::fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
}

void record(fault::IoEvent::Kind kind, std::string path, uint64_t inode, uint64_t offset = 0,
            std::string_view data = {}, std::string path2 = {}) {
  fault::IoEvent e;
  e.kind = kind;
  e.path = std::move(path);
  e.path2 = std::move(path2);
  e.inode = inode;
  e.offset = offset;
  e.data.assign(data.data(), data.size());
  fault::recorder()->record(std::move(e));
}

void record_sync(int fd, const std::string& path) {
  record(is_dir_fd(fd) ? fault::IoEvent::Kind::kDirSync : fault::IoEvent::Kind::kSync, path, inode_of(fd));
}

// A write of `n` bytes just ended at the descriptor's position.
void record_write_ending_at_position(int fd, const std::string& path, const char* data, size_t n) {
  const off_t end = ::lseek(fd, 0, SEEK_CUR);
  if (end < 0 || n == 0) return;
  record(fault::IoEvent::Kind::kWrite, path, inode_of(fd), static_cast<uint64_t>(end) - n,
         std::string_view(data, n));
}
}  // namespace

Status io_error(const std::string& what, const std::string& path, int err) {
  ErrorCode code = (err == ENOSPC || err == EDQUOT) ? ErrorCode::kInsufficientSpace
                                                    : ErrorCode::kStorageError;
  return Status(code, what + " " + path + ": " + std::strerror(err));
}

File& File::operator=(File&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = o.fd_;
    path_ = std::move(o.path_);
    o.fd_ = -1;
  }
  return *this;
}

File::~File() { close(); }

void File::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

Result<File> File::open(const std::string& path, int flags, int mode) {
  const bool recording = fault::recorder() != nullptr;
  const bool existed = recording && path_exists(path);
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return io_error("cannot open", path, errno);
  if (recording) {
    if ((flags & O_CREAT) && !existed) record(fault::IoEvent::Kind::kCreate, path, inode_of(fd));
    if ((flags & O_TRUNC) && existed) record(fault::IoEvent::Kind::kTruncate, path, inode_of(fd), 0);
  }
  File f;
  f.fd_ = fd;
  f.path_ = path;
  return f;
}

Status File::write_all(std::string_view data) {
  size_t partial = 0;
  if (int err = fault::check(fault::Op::kWrite, &partial, path_)) {
    if (partial > 0 && partial < data.size()) {
      const ssize_t n = ::write(fd_, data.data(), partial);
      if (n > 0 && fault::recorder())
        record_write_ending_at_position(fd_, path_, data.data(), static_cast<size_t>(n));
    }
    return io_error("write failed on", path_, err);
  }
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd_, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("write failed on", path_, errno);
    }
    if (fault::recorder()) record_write_ending_at_position(fd_, path_, p, static_cast<size_t>(n));
    p += n;
    left -= static_cast<size_t>(n);
  }
  return Status::ok();
}

Status File::pwrite_all(std::string_view data, uint64_t offset) {
  size_t partial = 0;
  if (int err = fault::check(fault::Op::kWrite, &partial, path_)) {
    if (partial > 0 && partial < data.size()) {
      const ssize_t n = ::pwrite(fd_, data.data(), partial, static_cast<off_t>(offset));
      if (n > 0 && fault::recorder())
        record(fault::IoEvent::Kind::kWrite, path_, inode_of(fd_), offset,
               std::string_view(data.data(), static_cast<size_t>(n)));
    }
    return io_error("write failed on", path_, err);
  }
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::pwrite(fd_, p, left, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("write failed on", path_, errno);
    }
    if (fault::recorder())
      record(fault::IoEvent::Kind::kWrite, path_, inode_of(fd_), offset,
             std::string_view(p, static_cast<size_t>(n)));
    p += n;
    offset += static_cast<uint64_t>(n);
    left -= static_cast<size_t>(n);
  }
  return Status::ok();
}

Status File::write_zeros(uint64_t offset, uint64_t n) {
  static const std::string kZeros(1 << 20, '\0');
  if (int err = fault::check(fault::Op::kPreallocate, nullptr, path_))
    return io_error("preallocating write failed on", path_, err);
  while (n > 0) {
    const size_t chunk = static_cast<size_t>(std::min<uint64_t>(n, kZeros.size()));
    ssize_t w = ::pwrite(fd_, kZeros.data(), chunk, static_cast<off_t>(offset));
    if (w < 0) {
      if (errno == EINTR) continue;
      return io_error("preallocating write failed on", path_, errno);
    }
    if (fault::recorder())
      record(fault::IoEvent::Kind::kWrite, path_, inode_of(fd_), offset,
             std::string_view(kZeros.data(), static_cast<size_t>(w)));
    offset += static_cast<uint64_t>(w);
    n -= static_cast<uint64_t>(w);
  }
  return Status::ok();
}

Status File::pread_exact(void* dst, size_t n, uint64_t offset) const {
  auto* p = static_cast<char*>(dst);
  while (n > 0) {
    ssize_t r = ::pread(fd_, p, n, static_cast<off_t>(offset));
    if (r < 0) {
      if (errno == EINTR) continue;
      return io_error("read failed on", path_, errno);
    }
    if (r == 0) return Status(ErrorCode::kStorageError, "unexpected end of file in " + path_);
    p += r;
    n -= static_cast<size_t>(r);
    offset += static_cast<uint64_t>(r);
  }
  return Status::ok();
}

Status File::datasync() {
  if (int err = fault::check(fault::Op::kSync, nullptr, path_)) return io_error("fdatasync failed on", path_, err);
  if (::fdatasync(fd_) != 0) return io_error("fdatasync failed on", path_, errno);
  if (fault::recorder()) record_sync(fd_, path_);
  return Status::ok();
}

Status File::sync() {
  if (int err = fault::check(fault::Op::kSync, nullptr, path_)) return io_error("fsync failed on", path_, err);
  if (::fsync(fd_) != 0) return io_error("fsync failed on", path_, errno);
  if (fault::recorder()) record_sync(fd_, path_);
  return Status::ok();
}

Status File::truncate(uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return io_error("truncate failed on", path_, errno);
  if (fault::recorder()) record(fault::IoEvent::Kind::kTruncate, path_, inode_of(fd_), size);
  return Status::ok();
}

Status File::seek_end(uint64_t* size_out) {
  off_t pos = ::lseek(fd_, 0, SEEK_END);
  if (pos < 0) return io_error("seek failed on", path_, errno);
  if (size_out) *size_out = static_cast<uint64_t>(pos);
  return Status::ok();
}

Result<uint64_t> File::size() const {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return io_error("stat failed on", path_, errno);
  return static_cast<uint64_t>(st.st_size);
}

Status fsync_dir(const std::string& dir) {
  auto f = File::open(dir, O_RDONLY | O_DIRECTORY);
  if (!f) return f.status();
  return f->sync();
}

Status rename_path(const std::string& from, const std::string& to) {
  if (int err = fault::check(fault::Op::kRename, nullptr, from)) return io_error("cannot rename " + from + " to", to, err);
  if (::rename(from.c_str(), to.c_str()) != 0) return io_error("cannot rename " + from + " to", to, errno);
  if (fault::recorder()) record(fault::IoEvent::Kind::kRename, from, 0, 0, {}, to);
  return Status::ok();
}

Status remove_file(const std::string& path) {
  if (::unlink(path.c_str()) != 0) {
    if (errno == ENOENT) return Status::ok();
    return io_error("cannot delete", path, errno);
  }
  if (fault::recorder()) record(fault::IoEvent::Kind::kUnlink, path, 0);
  return Status::ok();
}

Status make_dirs(const std::string& path) {
  // Parents first, then each missing level (as mkdir -p).
  std::vector<std::string> missing;
  for (std::filesystem::path p(path); !p.empty() && !path_exists(p.string()); p = p.parent_path()) {
    missing.push_back(p.string());
    if (p == p.parent_path()) break;
  }
  for (auto it = missing.rbegin(); it != missing.rend(); ++it) {
    if (::mkdir(it->c_str(), 0755) != 0 && errno != EEXIST) return io_error("cannot create directory", *it, errno);
    if (fault::recorder()) {
      struct stat st;
      record(fault::IoEvent::Kind::kMkdir, *it, ::stat(it->c_str(), &st) == 0 ? st.st_ino : 0);
    }
  }
  return Status::ok();
}

Status remove_tree(const std::string& path) {
  struct stat st;
  if (::lstat(path.c_str(), &st) != 0) {
    if (errno == ENOENT) return Status::ok();
    return io_error("cannot stat", path, errno);
  }
  if (!S_ISDIR(st.st_mode)) return remove_file(path);
  std::error_code ec;
  std::vector<std::string> children;
  for (const auto& e : std::filesystem::directory_iterator(path, ec)) children.push_back(e.path().string());
  if (ec) return Status(ErrorCode::kStorageError, "cannot list " + path + ": " + ec.message());
  for (const auto& c : children) RUSTLOG_RETURN_IF_ERROR(remove_tree(c));
  if (::rmdir(path.c_str()) != 0) return io_error("cannot remove directory", path, errno);
  if (fault::recorder()) record(fault::IoEvent::Kind::kRmdir, path, 0);
  return Status::ok();
}

Result<std::string> read_file(const std::string& path) {
  auto f = File::open(path, O_RDONLY);
  if (!f) return f.status();
  auto sz = f->size();
  if (!sz) return sz.status();
  std::string out(*sz, '\0');
  if (*sz > 0) RUSTLOG_RETURN_IF_ERROR(f->pread_exact(out.data(), *sz, 0));
  return out;
}

bool path_exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

}  // namespace rustlog
