// The recovery point checkpoint format and its file (storage/recovery_checkpoint.h).
#include "storage/recovery_checkpoint.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "support/record_gen.h"
#include "support/temp_dir.h"

namespace rustlog {
namespace {

using test::TempDir;

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
