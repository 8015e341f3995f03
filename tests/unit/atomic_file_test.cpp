// write_file_atomic / remove_temp_files (atomic_file.h) and the recovery
// point checkpoint format (recovery_checkpoint.h).
#include "storage/atomic_file.h"

#include <gtest/gtest.h>

#include <cerrno>
#include <filesystem>
#include <string>

#include "storage/fault_injection.h"
#include "storage/recovery_checkpoint.h"
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

TEST(RecoveryCheckpointTest, EncodeDecodeRoundTrip) {
  test::RecordGen g(910);
  for (int n : {0, 1, 2, 50}) {
    RecoveryPoints points;
    for (int i = 0; i < n; ++i)
      points["topic-" + std::to_string(g.uniform(0, 1000)) + "-" + std::to_string(i)] =
          i == 0 ? UINT64_MAX : g.uniform(0, uint64_t{1} << 62);
    const std::string text = encode_recovery_points(points);
    auto back = decode_recovery_points(text);
    ASSERT_TRUE(back.is_ok()) << back.status().to_string();
    EXPECT_EQ(*back, points);
  }
  EXPECT_EQ(encode_recovery_points({{"orders-0", 42}, {"audit-3", 7}}),
            "0\n2\naudit-3 7\norders-0 42\n");
}

TEST(RecoveryCheckpointTest, MalformedInputIsRejected) {
  const char* bad[] = {
      "",                                // empty
      "1\n0\n",                          // unknown version
      "x\n0\n",                          // version not a number
      "0\n",                             // missing count
      "0\nx\n",                          // count not a number
      "0\n2\na 1\n",                     // fewer entries than counted
      "0\n1\na\n",                       // entry without offset
      "0\n1\na x\n",                     // offset not a number
      "0\n1\na 1\nb 2\n",                // more entries than counted
      "0\n1\na 99999999999999999999\n",  // offset overflows
      "0\n1\na 1\ntrailing",             // trailing data
      "0\n1\na -5\n",                    // negative offset
      "0\n-1\n",                         // negative count
  };
  for (const char* text : bad) {
    auto r = decode_recovery_points(text);
    EXPECT_FALSE(r.is_ok()) << "accepted: '" << text << "'";
    if (!r) {
      EXPECT_EQ(r.status().code(), ErrorCode::kCorruptRecord);
    }
  }
}

TEST(RecoveryCheckpointTest, ReadAndWriteThroughTheDataDirectory) {
  TempDir tmp;
  auto none = read_recovery_points(tmp.path());
  ASSERT_TRUE(none.is_ok());
  EXPECT_TRUE(none->empty());
  const RecoveryPoints points = {{"a-0", 1}, {"b-1", 123456789012345ull}};
  test::write_bytes(tmp.sub(std::string(kRecoveryCheckpointFile) + ".tmp"), "garbage");
  ASSERT_TRUE(write_recovery_points(tmp.path(), points).is_ok());
  auto back = read_recovery_points(tmp.path());
  ASSERT_TRUE(back.is_ok());
  EXPECT_EQ(*back, points);
  EXPECT_EQ(test::list_files(tmp.path()), std::vector<std::string>{kRecoveryCheckpointFile});
  test::write_bytes(tmp.sub(kRecoveryCheckpointFile), "0\n3\na 1\n");
  EXPECT_FALSE(read_recovery_points(tmp.path()).is_ok());
}

}  // namespace
}  // namespace rustlog
