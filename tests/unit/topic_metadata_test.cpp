// The topic list on disk (topics/topic_metadata.h) through the registry:
// each change appends one record to topics.log and topics.json is not
// rewritten; a start compacts; the log stays bounded; a torn tail is
// dropped; corruption refuses the start and changes nothing; a stale log
// (older generation) is ignored; a topics.json written before topics.log
// existed opens as it is (the upgrade path).
#include "topics/topic_metadata.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "support/temp_dir.h"
#include "topics/metadata_log_format.h"
#include "topics/topic_registry.h"

namespace rustlog {
namespace {

namespace fs = std::filesystem;
using test::read_bytes;
using test::TempDir;
using test::write_bytes;

TopicConfig topic(uint32_t partitions) {
  TopicConfig c;
  c.partitions = partitions;
  EXPECT_TRUE(c.set("segment.bytes", "1048576").is_ok());
  return c;
}

std::map<std::string, uint32_t> listed(const std::string& dir) {
  auto m = read_topic_metadata(dir);
  EXPECT_TRUE(m.is_ok()) << m.status().to_string();
  std::map<std::string, uint32_t> out;
  if (m)
    for (const auto& [name, c] : m->topics) out[name] = c.partitions;
  return out;
}

TEST(TopicMetadataTest, EachChangeAppendsOneRecordAndLeavesTheSnapshotAlone) {
  TempDir tmp;
  const std::string json = tmp.sub(kTopicMetadataFile);
  const std::string log = tmp.sub(kTopicLogFile);
  {
    TopicRegistry reg(tmp.path(), 16);
    ASSERT_TRUE(reg.open(nullptr).is_ok());
    const std::string snapshot = read_bytes(json);
    EXPECT_EQ(fs::file_size(log), kMetadataLogHeaderBytes);
    ASSERT_TRUE(reg.create("a", topic(2)).is_ok());
    const auto after_one = fs::file_size(log);
    ASSERT_TRUE(reg.create("b", topic(1)).is_ok());
    ASSERT_TRUE(reg.remove("a").is_ok());
    EXPECT_EQ(reg.metadata_log_records(), 3u);
    EXPECT_EQ(read_bytes(json), snapshot) << "topics.json was rewritten";
    EXPECT_GT(fs::file_size(log), after_one);
    EXPECT_EQ(listed(tmp.path()), (std::map<std::string, uint32_t>{{"b", 1}}));
  }
  // The next start compacts: the snapshot holds the list, the log is empty.
  TopicRegistry reg(tmp.path(), 16);
  ASSERT_TRUE(reg.open(nullptr).is_ok());
  EXPECT_EQ(fs::file_size(log), kMetadataLogHeaderBytes);
  EXPECT_NE(read_bytes(json).find("\"b\""), std::string::npos);
  ASSERT_NE(reg.find("b"), nullptr);
  EXPECT_EQ(reg.find("a"), nullptr);
  EXPECT_EQ(reg.find("b")->config.segment_bytes, 1048576u);
}

TEST(TopicMetadataTest, TheLogIsCompactedPastItsBoundAndKeepsEveryTopic) {
  TempDir tmp;
  TopicRegistry reg(tmp.path(), 16);
  reg.set_min_compact_records(4);
  ASSERT_TRUE(reg.open(nullptr).is_ok());
  auto bounded = [&] {
    // Never more records than max(bound, topics): a compaction comes first.
    EXPECT_LE(reg.metadata_log_records(), std::max<uint64_t>(4, reg.topics().size()));
  };
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE(reg.create("t" + std::to_string(i), topic(1)).is_ok());
    bounded();
  }
  for (int i = 0; i < 20; ++i) {  // churn: records grow, topics do not
    ASSERT_TRUE(reg.create("churn", topic(1)).is_ok());
    bounded();
    ASSERT_TRUE(reg.remove("churn").is_ok());
    bounded();
  }
  EXPECT_EQ(listed(tmp.path()).size(), 6u);
  const auto m = read_topic_metadata(tmp.path());
  ASSERT_TRUE(m.is_ok());
  EXPECT_GT(m->generation, 1u) << "no compaction happened";
}

TEST(TopicMetadataTest, ATornTailIsDroppedAndTheRecordsBeforeItKept) {
  TempDir tmp;
  std::string whole_log;
  {
    TopicRegistry reg(tmp.path(), 16);
    ASSERT_TRUE(reg.open(nullptr).is_ok());
    ASSERT_TRUE(reg.create("a", topic(1)).is_ok());
    ASSERT_TRUE(reg.create("b", topic(1)).is_ok());
    whole_log = read_bytes(tmp.sub(kTopicLogFile));
  }
  // A third create cut short (its partition directory keeps its marker).
  const std::string c = encode_metadata_record({MetadataRecord::Type::kSet, "c", topic_config_json(topic(1))});
  fs::create_directories(tmp.sub("c-0"));
  write_bytes(tmp.sub("c-0/CREATING"), "");
  write_bytes(tmp.sub(kTopicLogFile), whole_log + c.substr(0, c.size() - 3));
  EXPECT_EQ(listed(tmp.path()), (std::map<std::string, uint32_t>{{"a", 1}, {"b", 1}}));
  TopicRegistry reg(tmp.path(), 16);
  ASSERT_TRUE(reg.open(nullptr).is_ok());
  EXPECT_NE(reg.find("a"), nullptr);
  EXPECT_NE(reg.find("b"), nullptr);
  EXPECT_EQ(reg.find("c"), nullptr);
  EXPECT_FALSE(fs::exists(tmp.sub("c-0"))) << "the uncommitted create's directory stays";
  EXPECT_EQ(fs::file_size(tmp.sub(kTopicLogFile)), kMetadataLogHeaderBytes) << "the torn tail stays";
}

TEST(TopicMetadataTest, CorruptionBeforeTheEndRefusesTheStartAndChangesNothing) {
  TempDir tmp;
  {
    TopicRegistry reg(tmp.path(), 16);
    ASSERT_TRUE(reg.open(nullptr).is_ok());
    ASSERT_TRUE(reg.create("a", topic(1)).is_ok());
    ASSERT_TRUE(reg.create("b", topic(1)).is_ok());
  }
  std::string bytes = read_bytes(tmp.sub(kTopicLogFile));
  bytes[kMetadataLogHeaderBytes + 12] ^= 0x01;  // inside the first record's name
  write_bytes(tmp.sub(kTopicLogFile), bytes);
  const std::string json = read_bytes(tmp.sub(kTopicMetadataFile));
  TopicRegistry reg(tmp.path(), 16);
  Status st = reg.open(nullptr);
  ASSERT_FALSE(st.is_ok());
  EXPECT_NE(st.message().find("topics.log: corrupt record at byte 16"), std::string::npos) << st.message();
  EXPECT_NE(st.message().find("--recover-topics"), std::string::npos) << st.message();
  EXPECT_EQ(read_bytes(tmp.sub(kTopicLogFile)), bytes);
  EXPECT_EQ(read_bytes(tmp.sub(kTopicMetadataFile)), json);
  EXPECT_TRUE(fs::exists(tmp.sub("a-0")));
}

TEST(TopicMetadataTest, ALogOlderThanTheSnapshotIsIgnored) {
  // A crash after a compaction renamed topics.json but before it replaced
  // topics.log leaves the old log: its records are in the snapshot already.
  TempDir tmp;
  std::string stale;
  {
    TopicRegistry reg(tmp.path(), 16);
    ASSERT_TRUE(reg.open(nullptr).is_ok());
    ASSERT_TRUE(reg.create("a", topic(1)).is_ok());
    stale = read_bytes(tmp.sub(kTopicLogFile));  // [set a]
  }
  {
    TopicRegistry reg(tmp.path(), 16);  // compacts: {a}
    ASSERT_TRUE(reg.open(nullptr).is_ok());
    ASSERT_TRUE(reg.remove("a").is_ok());
  }
  {
    TopicRegistry reg(tmp.path(), 16);  // compacts: {}
    ASSERT_TRUE(reg.open(nullptr).is_ok());
  }
  write_bytes(tmp.sub(kTopicLogFile), stale);
  EXPECT_TRUE(listed(tmp.path()).empty()) << "the stale log brought topic a back";
  TopicRegistry reg(tmp.path(), 16);
  ASSERT_TRUE(reg.open(nullptr).is_ok());
  EXPECT_TRUE(reg.topics().empty());
}

TEST(TopicMetadataTest, ATopicsJsonWithoutALogOpensAsItIs) {
  // As the broker wrote it before topics.log existed.
  TempDir tmp;
  fs::create_directories(tmp.sub("orders-0"));
  fs::create_directories(tmp.sub("orders-1"));
  write_bytes(tmp.sub(kTopicMetadataFile), R"({
  "topics": {
    "orders": {
      "cleanup.policy": "compact",
      "partitions": 2,
      "segment.bytes": "1048576"
    }
  },
  "version": 1
}
)");
  {
    TopicRegistry reg(tmp.path(), 16);
    ASSERT_TRUE(reg.open(nullptr).is_ok());
    ASSERT_NE(reg.find("orders"), nullptr);
    EXPECT_EQ(reg.find("orders")->partitions.size(), 2u);
    EXPECT_TRUE(reg.find("orders")->config.compacts());
    EXPECT_TRUE(fs::exists(tmp.sub(kTopicLogFile)));
    ASSERT_TRUE(reg.create("more", topic(1)).is_ok());
  }
  TopicRegistry reg(tmp.path(), 16);
  ASSERT_TRUE(reg.open(nullptr).is_ok());
  EXPECT_NE(reg.find("orders"), nullptr);
  EXPECT_NE(reg.find("more"), nullptr);
}

}  // namespace
}  // namespace rustlog
