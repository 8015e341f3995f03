#include "storage/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "storage/fault_injection.h"

namespace rustlog {

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
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, mode);
  if (fd < 0) return io_error("cannot open", path, errno);
  File f;
  f.fd_ = fd;
  f.path_ = path;
  return f;
}

Status File::write_all(std::string_view data) {
  size_t partial = 0;
  if (int err = fault::check(fault::Op::kWrite, &partial)) {
    if (partial > 0 && partial < data.size()) (void)!::write(fd_, data.data(), partial);
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
    p += n;
    left -= static_cast<size_t>(n);
  }
  return Status::ok();
}

Status File::pwrite_all(std::string_view data, uint64_t offset) {
  size_t partial = 0;
  if (int err = fault::check(fault::Op::kWrite, &partial)) return io_error("write failed on", path_, err);
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::pwrite(fd_, p, left, static_cast<off_t>(offset));
    if (n < 0) {
      if (errno == EINTR) continue;
      return io_error("write failed on", path_, errno);
    }
    p += n;
    offset += static_cast<uint64_t>(n);
    left -= static_cast<size_t>(n);
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
  if (int err = fault::check(fault::Op::kSync, nullptr)) return io_error("fdatasync failed on", path_, err);
  if (::fdatasync(fd_) != 0) return io_error("fdatasync failed on", path_, errno);
  return Status::ok();
}

Status File::sync() {
  if (int err = fault::check(fault::Op::kSync, nullptr)) return io_error("fsync failed on", path_, err);
  if (::fsync(fd_) != 0) return io_error("fsync failed on", path_, errno);
  return Status::ok();
}

Status File::truncate(uint64_t size) {
  if (::ftruncate(fd_, static_cast<off_t>(size)) != 0) return io_error("truncate failed on", path_, errno);
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
