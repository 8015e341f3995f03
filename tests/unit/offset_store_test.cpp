// The __consumer_offsets record format (docs/STORAGE.md, "Consumer offsets"):
// the key and value bytes of the table, their round trip and rejections, the
// size of one commit on disk, and the replay that rebuilds the map.
#include "offsets/offset_store.h"

#include <gtest/gtest.h>

#include <string>

#include "storage/partition_log.h"
#include "support/temp_dir.h"

namespace rustlog {
namespace {

using test::TempDir;

constexpr int64_t kT0 = 1'700'000'000'000'000;

std::string hex(const std::string& b) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned char c : b) {
    if (!out.empty()) out += ' ';
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

TEST(OffsetStoreTest, KeyAndValueBytesAreTheTableInStorageMd) {
  // The worked example of docs/STORAGE.md: group "g", topic "t", partition 3,
  // offset 5 committed at 1700000000000000 µs.
  EXPECT_EQ(hex(encode_group_key({"g", "t", 3})), "00 00 01 67 00 01 74 00 00 00 03");
  EXPECT_EQ(hex(encode_offset_value(5, kT0)), "00 00 00 00 00 00 00 00 05 00 06 0a 24 18 1e 40 00");
}

TEST(OffsetStoreTest, KeysAndValuesRoundTripAndMalformedOnesAreRejected) {
  const GroupKey k{"billing", "orders", 7};
  auto back = decode_group_key(encode_group_key(k));
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(*back, k);
  const GroupKey empty_topic{"g", "", 0};
  EXPECT_EQ(decode_group_key(encode_group_key(empty_topic)), empty_topic);
  EXPECT_EQ(decode_offset_value(encode_offset_value(123456789, kT0)), 123456789u);

  const std::string key = encode_group_key(k);
  for (size_t n = 0; n < key.size(); ++n) EXPECT_FALSE(decode_group_key(key.substr(0, n))) << n;
  EXPECT_FALSE(decode_group_key(key + "x"));
  std::string v1 = key;
  v1[0] = 1;  // another version
  EXPECT_FALSE(decode_group_key(v1));
  const std::string value = encode_offset_value(9, kT0);
  for (size_t n = 0; n < value.size(); ++n) EXPECT_FALSE(decode_offset_value(value.substr(0, n))) << n;
  EXPECT_FALSE(decode_offset_value(value + "x"));
  std::string w1 = value;
  w1[0] = 1;
  EXPECT_FALSE(decode_offset_value(w1));
}

TEST(OffsetStoreTest, EachCommitIsOneBatchOf76BytesPlusTheNames) {
  TempDir tmp;
  auto log = PartitionLog::open(tmp.sub("__consumer_offsets-0"), LogConfig{}, 0);
  ASSERT_TRUE(log.is_ok());
  OffsetStore store(log->get());
  uint64_t size = (*log)->size_bytes();
  for (const GroupKey& k : {GroupKey{"g", "t", 0}, GroupKey{"billing", "orders", 2},
                            GroupKey{std::string(20, 'g'), std::string(30, 't'), 1}}) {
    const uint64_t hw = (*log)->high_watermark();
    ASSERT_TRUE(store.commit(k, 42, kT0).is_ok());
    EXPECT_EQ((*log)->high_watermark(), hw + 1) << "one record per commit";
    EXPECT_EQ((*log)->size_bytes() - size, 76 + k.group.size() + k.topic.size()) << k.group;
    size = (*log)->size_bytes();
  }
}

TEST(OffsetStoreTest, ReplayRebuildsTheLatestOffsetPerKeyAndHonoursTombstones) {
  TempDir tmp;
  const std::string dir = tmp.sub("__consumer_offsets-0");
  {
    auto log = PartitionLog::open(dir, LogConfig{}, 0);
    ASSERT_TRUE(log.is_ok());
    OffsetStore store(log->get());
    ASSERT_TRUE(store.commit({"a", "t", 0}, 1, kT0).is_ok());
    ASSERT_TRUE(store.commit({"a", "t", 0}, 5, kT0 + 1).is_ok());
    ASSERT_TRUE(store.commit({"a", "u", 1}, 3, kT0 + 2).is_ok());
    ASSERT_TRUE(store.commit({"b", "t", 0}, 9, kT0 + 3).is_ok());
    auto n = store.delete_group("b", kT0 + 4);
    ASSERT_TRUE(n.is_ok());
    EXPECT_EQ(*n, 1u);
    ASSERT_TRUE((*log)->close().is_ok());
  }
  auto log = PartitionLog::open(dir, LogConfig{}, 0);
  ASSERT_TRUE(log.is_ok());
  OffsetStore store(log->get());
  ASSERT_TRUE(store.load().is_ok());
  EXPECT_EQ(store.committed({"a", "t", 0}), 5u);
  EXPECT_EQ(store.committed({"a", "u", 1}), 3u);
  EXPECT_FALSE(store.committed({"b", "t", 0}).has_value());
  EXPECT_EQ(store.groups(), std::vector<std::string>{"a"});
}

TEST(OffsetStoreTest, GroupIdsMustBeOneTo255Bytes) {
  TempDir tmp;
  auto log = PartitionLog::open(tmp.sub("__consumer_offsets-0"), LogConfig{}, 0);
  ASSERT_TRUE(log.is_ok());
  OffsetStore store(log->get());
  EXPECT_EQ(store.commit({"", "t", 0}, 1, kT0).code(), ErrorCode::kInvalidRequest);
  EXPECT_EQ(store.commit({std::string(256, 'g'), "t", 0}, 1, kT0).code(), ErrorCode::kInvalidRequest);
  EXPECT_TRUE(store.commit({std::string(255, 'g'), "t", 0}, 1, kT0).is_ok());
}

}  // namespace
}  // namespace rustlog
