// The on-disk bytes do not change: a log written through PartitionLog from
// BatchBuilder batches (keys, null and empty values, headers, timestamps at
// INT64_MIN/INT64_MAX) and legacy v0 produce batches, rolled into two
// segments with index entries, must hold exactly the files the engine wrote
// before its readers were rebuilt on the batch scanner. The sizes and CRC-32C
// of each file below were taken from that earlier engine; a mismatch prints
// the file so the change can be seen.
#include <gtest/gtest.h>

#include <cstdio>
#include <limits>
#include <string>
#include <vector>

#include "protocol/produce_v0.h"
#include "common/byte_order.h"
#include "common/crc32c.h"
#include "storage/partition_log.h"
#include "support/log_helpers.h"
#include "support/temp_dir.h"

namespace rustlog {
namespace {

std::string hex(const std::string& s) {
  std::string out;
  char b[3];
  for (unsigned char c : s) {
    std::snprintf(b, sizeof b, "%02x", c);
    out += b;
  }
  return out;
}

void write_log(const std::string& dir) {
  LogConfig c;
  c.segment_bytes = 1024;
  c.index_interval_bytes = 64;
  auto log = PartitionLog::open(dir, c, 0);
  ASSERT_TRUE(log.is_ok()) << log.status().to_string();
  for (int i = 0; i < 6; ++i) {
    BatchBuilder b(0);
    b.add(1700000000000000 + i, std::string("key") + char('a' + i), std::string(10 + i, 'v'), {{"h", "x"}});
    b.add(i % 2 ? std::numeric_limits<int64_t>::min() : std::numeric_limits<int64_t>::max(), std::nullopt,
          std::nullopt, {});
    b.add(-5, std::string(), std::string(), {{"", ""}, {"n", "val"}});
    std::string s = b.finish();
    ASSERT_TRUE((*log)->append(s, 1700000000000000 + i * 1000).is_ok());
    // A legacy v0 produce of three values (type, topic "t", partition, count).
    std::string payload("\x01\x00\x01t", 4);
    uint8_t u[4];
    put_u32(u, 0);
    payload.append(reinterpret_cast<char*>(u), 4);
    put_u32(u, 3);
    payload.append(reinterpret_cast<char*>(u), 4);
    for (int k = 0; k < 3; ++k) {
      const std::string v(static_cast<size_t>(k * 7 + i), 'L');
      put_u32(u, static_cast<uint32_t>(v.size()));
      payload.append(reinterpret_cast<char*>(u), 4);
      payload += v;
    }
    protocol::ProduceV0 lp;
    ASSERT_TRUE(protocol::parse_produce_v0(payload, &lp));
    std::string lb;
    protocol::build_produce_v0_batch(lp, 1700000000123456 + i, lb, (*log)->high_watermark());
    ASSERT_TRUE((*log)->append(lb, 1700000000000000 + i * 1000 + 1).is_ok());
  }
  ASSERT_TRUE((*log)->close().is_ok());
}

TEST(StorageGoldenTest, LogAndIndexFilesAreByteForByteAsBefore) {
  test::TempDir tmp;
  const std::string dir = tmp.sub("t-0");
  write_log(dir);
  struct File {
    const char* name;
    size_t size;
    uint32_t crc;
  };
  const File want[] = {
      {"00000000000000000000.index", 72, 0xd38e2024},
      {"00000000000000000000.log", 995, 0xce56e3d4},
      {"00000000000000000000.timeindex", 12, 0x563681e6},
      {"00000000000000000030.index", 8, 0xfbcead38},
      {"00000000000000000030.log", 211, 0xaa5d85f3},
      {"00000000000000000030.timeindex", 12, 0x13ef7e29},
  };
  std::vector<std::string> names;
  for (const File& f : want) names.push_back(f.name);
  EXPECT_EQ(test::list_files(dir), names);
  for (const File& f : want) {
    const std::string bytes = test::read_bytes(dir + "/" + f.name);
    EXPECT_EQ(bytes.size(), f.size) << f.name << ": " << hex(bytes);
    EXPECT_EQ(crc32c(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), f.crc)
        << f.name << ": " << hex(bytes);
  }
}

}  // namespace
}  // namespace rustlog
