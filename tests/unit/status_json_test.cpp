// render_status_json on hand-made snapshots (the shapes a running broker
// rarely shows: read-only partitions, odd group names, recent latencies),
// and the two helpers behind recent rates: Trailing and
// HistogramSnapshot::since.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "metrics/status_json.h"
#include "metrics/trailing.h"

namespace rustlog {
namespace {

using nlohmann::json;

json render(const BrokerMetrics& m, int64_t now = 10'000) {
  return json::parse(render_status_json(m, BrokerIdentity{"127.0.0.1:9092", "/data", "interval:50", 42}, now));
}

TEST(StatusJson, BeforeTheFirstSnapshotTheDocumentIsEmptyButComplete) {
  BrokerMetrics m;
  m.start_time_unix_ms.set(4'500);
  const json d = render(m);
  EXPECT_EQ(d.at("broker").at("uptime_seconds"), 5);
  EXPECT_EQ(d.at("broker").at("listen"), "127.0.0.1:9092");
  EXPECT_EQ(d.at("broker").at("flush"), "interval:50");
  EXPECT_EQ(d.at("broker").at("pid"), 42);
  EXPECT_TRUE(d.at("topics").empty());
  EXPECT_TRUE(d.at("groups").empty());
  EXPECT_EQ(d.at("fsync").at("count"), 0);
  EXPECT_EQ(d.at("fsync").at("p50_ms"), nullptr);
  EXPECT_EQ(d.at("snapshot").at("taken_unix_ms"), 0);
  EXPECT_EQ(d.at("snapshot").at("age_ms"), 0);
}

TEST(StatusJson, PartitionsGroupsAndLatenciesAsPublished) {
  BrokerMetrics m;
  for (int i = 0; i < 99; ++i) m.fsync_latency.record(2'000'000);  // 2 ms
  m.fsync_latency.record(50'000'000);                               // one 50 ms outlier
  m.fsync_errors.inc();
  auto snap = std::make_unique<metrics::MetricsSnapshot>();
  snap->taken_unix_ms = 9'900;
  snap->window_ms = 5'000;
  snap->topics = 2;
  snap->fsync_recent = metrics::HistogramSnapshot(metrics::kLatencyLayout);
  snap->fsync_recent.record(8'000'000, 4);  // 8 ms
  metrics::PartitionStats a;
  a.topic = "__consumer_offsets";
  a.internal = true;
  metrics::PartitionStats b;
  b.topic = "orders";
  b.partition = 1;
  b.log_start_offset = 100;
  b.high_watermark = 250;
  b.size_bytes = 4096;
  b.segments = 3;
  b.read_only = true;
  b.records_in_per_sec = 12.5;
  b.bytes_out_per_sec = 1000;
  snap->partitions = {a, b};
  metrics::GroupOffsetStats g1{"bad\xff" "name", "orders", 1, 200, 250, 50};
  metrics::GroupOffsetStats g2{"bad\xff" "name", "orders", 2, 10, 30, 20};
  snap->groups = {g1, g2};
  m.snapshots().publish(std::move(snap));

  const json d = render(m);
  EXPECT_EQ(d.at("snapshot").at("age_ms"), 100);
  EXPECT_EQ(d.at("snapshot").at("window_ms"), 5000);
  ASSERT_EQ(d.at("topics").size(), 2u);
  EXPECT_EQ(d.at("topics")[0].at("internal"), true);
  const json& p = d.at("topics")[1].at("partitions")[0];
  EXPECT_EQ(p.at("partition"), 1);
  EXPECT_EQ(p.at("records"), 150);  // high watermark - log start
  EXPECT_EQ(p.at("read_only"), true);
  EXPECT_EQ(p.at("records_in_per_sec"), 12.5);
  EXPECT_EQ(d.at("totals").at("read_only_partitions"), 1);
  EXPECT_EQ(d.at("totals").at("records_in_per_sec"), 12.5);
  EXPECT_EQ(d.at("totals").at("bytes_out_per_sec"), 1000.0);
  EXPECT_EQ(d.at("totals").at("size_bytes"), 4096);
  // One group (its offsets together), its name's invalid byte replaced.
  ASSERT_EQ(d.at("groups").size(), 1u);
  EXPECT_EQ(d.at("groups")[0].at("group"), "bad\xEF\xBF\xBDname");
  EXPECT_EQ(d.at("groups")[0].at("total_lag"), 70);
  EXPECT_EQ(d.at("groups")[0].at("partitions").size(), 2u);
  EXPECT_EQ(d.at("totals").at("consumer_groups"), 1);
  // fsync since start: p50 in the 2 ms bucket, p99 too (99 of 100 are 2 ms);
  // recent: the 8 ms flushes alone.
  const json& f = d.at("fsync");
  EXPECT_EQ(f.at("count"), 100);
  EXPECT_EQ(f.at("errors"), 1);
  EXPECT_NEAR(f.at("p50_ms").get<double>(), 2.0, 2.0 * 0.25);
  EXPECT_NEAR(f.at("p99_ms").get<double>(), 2.0, 2.0 * 0.25);
  EXPECT_EQ(f.at("recent").at("count"), 4);
  EXPECT_NEAR(f.at("recent").at("p50_ms").get<double>(), 8.0, 8.0 * 0.25);
  EXPECT_NEAR(f.at("recent").at("p99_ms").get<double>(), 8.0, 8.0 * 0.25);
}

TEST(Trailing, KeepsOneSamplePerStepAndDropsTheOldest) {
  metrics::Trailing<int, 3> t;
  EXPECT_EQ(t.oldest(), nullptr);
  t.offer(0, 1);
  t.offer(500, 2);  // less than a step after the newest: dropped
  EXPECT_EQ(t.oldest()->value, 1);
  t.offer(950, 3);  // a little early still counts as a step
  t.offer(2000, 4);
  EXPECT_EQ(t.oldest()->at_ms, 0);
  t.offer(3100, 5);  // the ring is full: 0 goes
  EXPECT_EQ(t.oldest()->at_ms, 950);
  EXPECT_EQ(t.oldest()->value, 3);
  t.offer(4100, 6);
  EXPECT_EQ(t.oldest()->value, 4);
}

TEST(HistogramSince, SubtractsAnOlderSnapshotOfTheSameHistogram) {
  metrics::LatencyHistogram h;
  h.record(1'000'000);
  const metrics::HistogramSnapshot before = h.snapshot();
  h.record(5'000'000);
  h.record(5'000'000);
  const metrics::HistogramSnapshot d = h.snapshot().since(before);
  EXPECT_EQ(d.count(), 2u);
  EXPECT_EQ(d.sum, 10'000'000u);
  EXPECT_NEAR(d.quantile(0.5), 5e6, 5e6 * 0.25);
  // Another layout (or nothing recorded before): the snapshot as it is.
  EXPECT_EQ(h.snapshot().since(metrics::HistogramSnapshot()).count(), 3u);
}

}  // namespace
}  // namespace rustlog
