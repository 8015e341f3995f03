#pragma once
// Test helpers for real files: a temporary directory that removes itself,
// and small byte-level file operations (read, write, truncate, flip a bit,
// copy a directory) used to damage logs the way crashes and disks do.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

namespace rustlog::test {

// Where tests that fsync thousands of times put their files: tmpfs
// (/dev/shm) when there is one, since what they check is the storage code's
// logic, not the disk under it; /tmp otherwise.
inline std::string fast_temp_base() {
  std::error_code ec;
  return std::filesystem::is_directory("/dev/shm", ec) && ::access("/dev/shm", W_OK) == 0 ? "/dev/shm"
                                                                                         : "/tmp";
}

// mkdtemp under `base` (/tmp unless named); removed (recursively) on destruction.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "rustlog-test", const std::string& base = "/tmp") {
    std::string tmpl = base + "/" + prefix + "-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr) {
      ADD_FAILURE() << "mkdtemp failed for " << tmpl;
      std::abort();
    }
    path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Byte-string equality that reports sizes and the first difference instead
// of dumping both buffers.
inline ::testing::AssertionResult same_bytes(std::string_view got, std::string_view want) {
  if (got == want) return ::testing::AssertionSuccess();
  size_t i = 0;
  while (i < got.size() && i < want.size() && got[i] == want[i]) ++i;
  return ::testing::AssertionFailure() << "got " << got.size() << " bytes, want " << want.size()
                                       << "; first difference at byte " << i;
}

inline std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << "cannot read " << path;
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

inline void write_bytes(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  EXPECT_TRUE(out.good()) << "cannot write " << path;
}

inline uint64_t file_size(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return static_cast<uint64_t>(st.st_size);
}

inline bool exists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

inline void truncate_file(const std::string& path, uint64_t size) {
  ASSERT_EQ(::truncate(path.c_str(), static_cast<off_t>(size)), 0) << path;
}

// Flips bit `bit` (0..7) of the byte at `pos`.
inline void flip_bit(const std::string& path, uint64_t pos, int bit) {
  std::string b = read_bytes(path);
  ASSERT_LT(pos, b.size()) << path;
  b[pos] = static_cast<char>(static_cast<uint8_t>(b[pos]) ^ (1u << bit));
  write_bytes(path, b);
}

// Names of the regular files directly inside `dir`, sorted.
inline std::vector<std::string> list_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir))
    if (e.is_regular_file()) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

// Replaces `to` with a copy of the regular files in `from`.
inline void copy_dir(const std::string& from, const std::string& to) {
  std::error_code ec;
  std::filesystem::remove_all(to, ec);
  std::filesystem::create_directories(to);
  for (const auto& name : list_files(from))
    std::filesystem::copy_file(from + "/" + name, to + "/" + name);
}

// Makes `to` hold the same files as `from`, rewriting only the files that
// differ: tests that damage and recover a log many times stay fast because
// untouched segments are not copied (and so need no fsync) again.
inline void restore_dir(const std::string& from, const std::string& to) {
  std::filesystem::create_directories(to);
  const auto want = list_files(from);
  for (const auto& name : list_files(to))
    if (!std::binary_search(want.begin(), want.end(), name))
      std::filesystem::remove(to + "/" + name);
  for (const auto& name : want) {
    const std::string src = read_bytes(from + "/" + name);
    if (!exists(to + "/" + name) || read_bytes(to + "/" + name) != src)
      write_bytes(to + "/" + name, src);
  }
}

}  // namespace rustlog::test
