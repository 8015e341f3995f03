// write_file_atomic / remove_temp_files (atomic_file.h).
#include "storage/atomic_file.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "storage/fault_injection.h"
#include "support/record_gen.h"
#include "support/temp_dir.h"

namespace rustlog {
namespace {

using test::TempDir;

class AtomicFileTest : public ::testing::Test {
 protected:
  void TearDown() override { fault::disarm(); }
};

TEST_F(AtomicFileTest, WritesNewContents) {
  TempDir tmp;
  const std::string path = tmp.sub("file");
  test::RecordGen g(900);
  for (size_t n : {size_t{0}, size_t{1}, size_t{4096}, size_t{100000}, size_t{10}}) {
    const std::string data = g.bytes(n);
    ASSERT_TRUE(write_file_atomic(path, data).is_ok());
    EXPECT_TRUE(test::same_bytes(test::read_bytes(path), data));
    EXPECT_EQ(test::list_files(tmp.path()), std::vector<std::string>{"file"});
  }
}

TEST_F(AtomicFileTest, ALeftoverTempFileDoesNotBreakIt) {
  TempDir tmp;
  const std::string path = tmp.sub("file");
  test::write_bytes(path, "old contents");
  test::write_bytes(path + ".tmp", std::string(50000, 'x'));  // a crashed writer's leftover
  ASSERT_TRUE(write_file_atomic(path, "new").is_ok());
  EXPECT_EQ(test::read_bytes(path), "new");
  EXPECT_FALSE(test::exists(path + ".tmp"));
}

TEST_F(AtomicFileTest, AFailedWriteKeepsTheOldContents) {
  TempDir tmp;
  const std::string path = tmp.sub("file");
  ASSERT_TRUE(write_file_atomic(path, "old contents").is_ok());
  fault::arm(fault::Op::kWrite, ENOSPC, 0, 1, 3);
  Status st = write_file_atomic(path, "new contents that do not fit");
  EXPECT_EQ(st.code(), ErrorCode::kInsufficientSpace) << st.to_string();
  EXPECT_EQ(test::read_bytes(path), "old contents");
  EXPECT_FALSE(test::exists(path + ".tmp"));
  fault::arm(fault::Op::kSync, EIO);
  st = write_file_atomic(path, "new contents, fsync fails");
  EXPECT_EQ(st.code(), ErrorCode::kStorageError) << st.to_string();
  EXPECT_EQ(test::read_bytes(path), "old contents");
  EXPECT_FALSE(test::exists(path + ".tmp"));
}

TEST_F(AtomicFileTest, RemoveTempFilesRemovesOnlyTempFiles) {
  TempDir tmp;
  for (const char* name :
       {"a.tmp", "00000000000000000000.index.tmp", "b.tmp", "keep.log", "keep.tmpx", ".tmp", "tmp"})
    test::write_bytes(tmp.sub(name), "x");
  auto removed = remove_temp_files(tmp.path());
  ASSERT_TRUE(removed.is_ok());
  EXPECT_EQ(*removed, 3);
  EXPECT_EQ(test::list_files(tmp.path()),
            (std::vector<std::string>{".tmp", "keep.log", "keep.tmpx", "tmp"}));
  removed = remove_temp_files(tmp.path());
  ASSERT_TRUE(removed.is_ok());
  EXPECT_EQ(*removed, 0);
}

}  // namespace
}  // namespace rustlog
