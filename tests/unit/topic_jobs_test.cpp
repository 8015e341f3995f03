// Topic creates and deletes in bounded steps (topics/topic_job.h): with a
// deadline already past, each step does exactly one unit, so the tests see
// every state between two units. A create's topic is listed only once its
// metadata is committed and its name is held until its last unit; a
// delete's topic leaves the list at once, its logs are closed only after
// every partition carries the delete marker, and its name is free again
// at the end. A registry reopened after either finds what create() and
// remove() done at once would leave.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "support/temp_dir.h"
#include "topics/data_dir.h"
#include "topics/topic_registry.h"

namespace rustlog {
namespace {

namespace fs = std::filesystem;
using test::TempDir;

constexpr int64_t kPast = 1;  // a deadline already passed: one unit per step

TopicConfig partitions(uint32_t n) {
  TopicConfig c;
  c.partitions = n;
  return c;
}

size_t entries_named(const std::string& dir, const std::string& name) {
  size_t n = 0;
  for (const auto& d : fs::directory_iterator(dir))
    if (d.is_directory() && fs::exists(d.path() / name)) ++n;
  return n;
}

TEST(TopicJobsTest, ACreateInStepsIsListedOnceCommittedAndHoldsItsNameUntilItsLastUnit) {
  TempDir tmp;
  constexpr uint32_t kParts = 8;
  {
    TopicRegistry reg(tmp.path(), 16);
    ASSERT_TRUE(reg.open(nullptr).is_ok());
    auto job = reg.begin_create("wide", partitions(kParts));
    ASSERT_TRUE(job.is_ok()) << job.status().to_string();
    int steps = 0;
    int listed_at = -1;
    for (;;) {
      auto r = reg.step(**job, kPast);
      ASSERT_TRUE(r.is_ok()) << r.status().to_string();
      ++steps;
      if (listed_at < 0 && reg.find("wide")) listed_at = steps;
      if (*r) break;
      // Held while under way: a second create and a delete are refused, naming the create.
      auto again = reg.begin_create("wide", partitions(1));
      ASSERT_FALSE(again.is_ok());
      EXPECT_EQ(again.status().code(), ErrorCode::kTopicExists);
      EXPECT_NE(again.status().message().find("is being created"), std::string::npos) << again.status().message();
      auto del = reg.begin_delete("wide");
      ASSERT_FALSE(del.is_ok());
      EXPECT_EQ(del.status().code(), ErrorCode::kTopicExists);
    }
    // One unit a step: 8 directories and markers, 8 logs, the commit, 8 markers removed.
    EXPECT_EQ(steps, 3 * static_cast<int>(kParts) + 1);
    EXPECT_EQ((*job)->units(), static_cast<uint64_t>(steps));
    EXPECT_EQ(listed_at, 2 * static_cast<int>(kParts) + 1) << "listed before (or long after) its commit";
    EXPECT_EQ(entries_named(tmp.path(), kCreatingMarker), 0u);
    ASSERT_NE(reg.find("wide"), nullptr);
    EXPECT_EQ(reg.find("wide")->partitions.size(), kParts);
    EXPECT_TRUE(reg.begin_delete("wide").is_ok()) << "the name is still held after the last unit";
  }
}

TEST(TopicJobsTest, ADeleteInStepsLeavesTheListAtOnceClosesTheLogsOnlyOnceDecidedAndFreesTheName) {
  TempDir tmp;
  constexpr uint32_t kParts = 4;
  {
    TopicRegistry reg(tmp.path(), 16);
    ASSERT_TRUE(reg.open(nullptr).is_ok());
    ASSERT_TRUE(reg.create("gone", partitions(kParts)).is_ok());
    ASSERT_TRUE(reg.create("kept", partitions(1)).is_ok());
    int closes = 0;
    size_t marked_at_close = 0;
    auto job = reg.begin_delete("gone", [&](const Topic& t) {
      ++closes;
      EXPECT_EQ(t.partitions.size(), kParts);
      marked_at_close = entries_named(tmp.path(), std::string(kDeleteMarkerPrefix) + "gone");
    });
    ASSERT_TRUE(job.is_ok()) << job.status().to_string();
    EXPECT_EQ(reg.find("gone"), nullptr) << "still listed once its delete began";
    int steps = 0;
    for (;;) {
      auto r = reg.step(**job, kPast);
      ASSERT_TRUE(r.is_ok()) << r.status().to_string();
      ++steps;
      if (*r) break;
      auto again = reg.begin_create("gone", partitions(1));
      ASSERT_FALSE(again.is_ok());
      EXPECT_NE(again.status().message().find("is being deleted"), std::string::npos) << again.status().message();
    }
    // 4 markers, the close, 4 renames, 4 emptied directories, the metadata.
    EXPECT_EQ(steps, 3 * static_cast<int>(kParts) + 2);
    EXPECT_EQ(closes, 1);
    EXPECT_EQ(marked_at_close, kParts) << "the logs were closed before the delete was decided";
    EXPECT_FALSE(fs::exists(tmp.sub(TopicRegistry::partition_dir_name("gone", 0))));
    auto fresh = reg.create("gone", partitions(2));
    ASSERT_TRUE(fresh.is_ok()) << fresh.status().to_string();
    EXPECT_EQ((*fresh)->partitions[0]->high_watermark(), 0u);
  }
  TopicRegistry reopened(tmp.path(), 16);
  ASSERT_TRUE(reopened.open(nullptr).is_ok());
  ASSERT_NE(reopened.find("gone"), nullptr);
  EXPECT_EQ(reopened.find("gone")->partitions.size(), 2u);
  EXPECT_NE(reopened.find("kept"), nullptr);
}

TEST(TopicJobsTest, ATopicWhoseDeleteIsNotYetDecidedStaysInTheMetadataAnotherChangeCompacts) {
  TempDir tmp;
  {
    TopicRegistry reg(tmp.path(), 16);
    ASSERT_TRUE(reg.open(nullptr).is_ok());
    reg.set_min_compact_records(0);  // every commit compacts: topics.json is rewritten whole
    ASSERT_TRUE(reg.create("gone", partitions(3)).is_ok());
    auto job = reg.begin_delete("gone");
    ASSERT_TRUE(job.is_ok());
    auto r = reg.step(**job, kPast);  // one marker of three: not decided
    ASSERT_TRUE(r.is_ok());
    ASSERT_FALSE(*r);
    // Another create commits (compacting) while the delete is undecided;
    // the caller runs one job at a time, and this is the state in between.
    ASSERT_TRUE(reg.create("other", partitions(1)).is_ok());
    // The process ends here, as a crash would leave it.
  }
  TopicRegistry reopened(tmp.path(), 16);
  ASSERT_TRUE(reopened.open(nullptr).is_ok()) << "a compaction dropped the topic before its delete was decided";
  EXPECT_EQ(reopened.find("gone"), nullptr) << "a marked partition decides the delete at the next start";
  EXPECT_NE(reopened.find("other"), nullptr);
}

}  // namespace
}  // namespace rustlog
