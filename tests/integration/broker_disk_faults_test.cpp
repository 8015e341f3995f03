// The disk failing under a running kafka-lite:
//   - disk full on a real small file system (a 2 MiB tmpfs): produces fail
//     with 507 and are not acknowledged, nothing acknowledged is lost,
//     writes resume once space is freed, and after a restart every
//     acknowledged record is there and `rustlog verify` finds no problem;
//   - an fsync failing (EIO, injected through the I/O seam with
//     RUSTLOG_FAULT): the produce waiting for it is answered 503 and not
//     acknowledged, the partition turns read-only with an error naming the
//     cause and rustlog_partitions_read_only counts it, and a restart
//     recovers every acknowledged record and takes writes again.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "admin/verify.h"
#include "metrics/exposition.h"
#include "support/broker_calls.h"
#include "support/broker_process.h"
#include "support/temp_dir.h"
#include "support/tmpfs_mount.h"

namespace rustlog::test {
namespace {

using namespace protocol;

struct Acked {
  uint64_t offset;
  std::string value;
};

std::string value_for(int i, size_t size) {
  std::string v = "record " + std::to_string(i) + ":";
  v.resize(size, static_cast<char>('a' + i % 26));
  return v;
}

// Every acknowledged record is at its offset with its value.
void expect_acked_present(client::Connection& c, const std::string& topic, const std::vector<Acked>& acked) {
  for (const Acked& a : acked) {
    auto f = call<FetchExResponse>(c, FetchExRequest{topic, 0, a.offset, 1 << 20, 0, 0});
    ASSERT_FALSE(f.records.empty()) << "acknowledged offset " << a.offset << " missing";
    EXPECT_EQ(f.records.front().offset, a.offset);
    EXPECT_TRUE(f.records.front().value == a.value) << "acknowledged offset " << a.offset << " differs";
  }
}

double read_only_partitions(client::Connection& c) {
  auto m = call<MetricsResponse>(c, MetricsFetchRequest{});
  auto e = metrics::parse_exposition(m.text);
  if (!e.is_ok()) return -1;
  return e->value("rustlog_partitions_read_only").value_or(-1);
}

TEST(BrokerDiskFaultsTest, DiskFullOnARealSmallFileSystem) {
  TempDir tmp;
  const std::string mnt = tmp.sub("mnt");
  std::filesystem::create_directories(mnt);
  TmpfsMount fs(mnt, "2m");
  if (!fs.mounted()) GTEST_SKIP() << "cannot mount a tmpfs on " << mnt << ": " << fs.error();
  const std::string filler = mnt + "/filler";
  write_bytes(filler, std::string(512 * 1024, 'f'));  // space to give back later

  BrokerProcess broker;
  broker.set_data_dir(mnt + "/data");
  ASSERT_TRUE(broker.start());
  std::vector<Acked> acked;
  {
    auto c = broker.connect();
    call<CreateTopicExResponse>(c, CreateTopicExRequest{"full", 1, {{"flush", "always"}, {"segment.bytes", "262144"}}});
    std::optional<ErrorResponse> full;
    for (int i = 0; i < 10'000 && !full; ++i) {
      const std::string v = value_for(i, 8000);
      auto r = c.call(ProduceRequest{"full", 0, {v}});
      ASSERT_TRUE(r.is_ok()) << r.status().to_string();
      if (auto* e = std::get_if<ErrorResponse>(&*r)) full = *e;
      else acked.push_back({as<ProduceResponse>(std::move(r)).base_offset, v});
    }
    ASSERT_TRUE(full.has_value()) << "the 2 MiB file system never filled up";
    EXPECT_EQ(full->code, v0(V0Code::kDiskFull)) << full->message;  // a v0 Produce on a legacy connection
    EXPECT_FALSE(acked.empty());
    // Still full: the same answer, nothing half-written is served.
    auto again = call_error(c, ProduceRequest{"full", 0, {value_for(-1, 8000)}});
    EXPECT_EQ(again.code, v0(V0Code::kDiskFull));
    ASSERT_NO_FATAL_FAILURE(expect_acked_present(c, "full", acked));
    // Space freed: writes resume on the same connection.
    std::filesystem::remove(filler);
    for (int i = 0; i < 20; ++i) {
      const std::string v = value_for(20'000 + i, 8000);
      acked.push_back({call<ProduceResponse>(c, ProduceRequest{"full", 0, {v}}).base_offset, v});
    }
  }
  ASSERT_EQ(broker.stop(), 0) << broker.log_tail();
  ASSERT_TRUE(broker.start());
  {
    auto c = broker.connect();
    ASSERT_NO_FATAL_FAILURE(expect_acked_present(c, "full", acked));
  }
  ASSERT_EQ(broker.stop(), 0) << broker.log_tail();
  auto report = admin::verify_data_dir(mnt + "/data");
  ASSERT_TRUE(report.is_ok()) << report.status().to_string();
  EXPECT_TRUE(report->clean()) << report->problem_count() << " problems";
  std::printf("disk full: %zu records acknowledged, writes resumed after freeing space, verify clean\n", acked.size());
}

TEST(BrokerDiskFaultsTest, FsyncFailureMakesThePartitionReadOnlyUntilRestart) {
  ::setenv("RUSTLOG_FAULT", "sync:EIO:skip=25", 1);
  BrokerProcess broker;
  const bool started = broker.start();
  ::unsetenv("RUSTLOG_FAULT");
  ASSERT_TRUE(started);
  std::vector<Acked> acked;
  {
    auto c = broker.connect();
    call<CreateTopicExResponse>(c, CreateTopicExRequest{"sync", 1, {{"flush", "always"}}});
    std::optional<ErrorResponse> failed;
    for (int i = 0; i < 200 && !failed; ++i) {
      const std::string v = value_for(i, 300);
      auto r = c.call(ProduceRequest{"sync", 0, {v}});
      ASSERT_TRUE(r.is_ok()) << r.status().to_string();
      if (auto* e = std::get_if<ErrorResponse>(&*r)) failed = *e;
      else acked.push_back({as<ProduceResponse>(std::move(r)).base_offset, v});
    }
    ASSERT_TRUE(failed.has_value()) << "the injected fsync failure never happened\n" << broker.log_tail();
    EXPECT_EQ(failed->code, v0(V0Code::kReadOnly)) << failed->message;  // v0 Produce, legacy connection
    EXPECT_TRUE(has_substr(failed->message, "read-only"));
    EXPECT_TRUE(has_substr(failed->message, "Input/output error"));
    // Read-only until restart, even though the disk works again.
    auto later = call_error(c, ProduceRequest{"sync", 0, {"after the failure"}});
    EXPECT_EQ(later.code, v0(V0Code::kReadOnly));
    EXPECT_TRUE(has_substr(later.message, "restart"));
    EXPECT_EQ(read_only_partitions(c), 1.0);
  }
  broker.kill9();
  ASSERT_TRUE(broker.start());
  {
    auto c = broker.connect();
    ASSERT_NO_FATAL_FAILURE(expect_acked_present(c, "sync", acked));
    EXPECT_EQ(read_only_partitions(c), 0.0);
    call<ProduceResponse>(c, ProduceRequest{"sync", 0, {"after the restart"}});
  }
  std::printf("fsync failure: %zu records acknowledged before it, all present after the restart\n", acked.size());
}

}  // namespace
}  // namespace rustlog::test
