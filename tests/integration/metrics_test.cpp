// End to end: the broker's metrics against a real kafka-lite process.
//  - after a known sequence of produces, fetches, commits and errors every
//    exported value is exactly right (lag = high watermark - committed);
//  - MetricsFetch (0x09) and GET /metrics give the same text;
//  - promtool accepts the scrape; histogram buckets are cumulative;
//  - a real Prometheus server scrapes the broker and the consumer lag is read
//    back through its HTTP query API;
//  - connection counters, recovery counters, /health, and the endpoint's
//    single thread.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "metrics/exposition.h"
#include "storage/record_batch.h"
#include "support/broker_calls.h"
#include "support/broker_process.h"
#include "support/metrics_helpers.h"

namespace rustlog::test {
namespace {

using namespace protocol;
using namespace std::chrono_literals;
using metrics::Exposition;
using metrics::parse_exposition;
using Labels = std::map<std::string, std::string>;

// The bytes the broker appends for a v0 produce of these values: one batch,
// every record with the same timestamp (so the size does not depend on it).
uint64_t batch_bytes(const std::vector<std::string>& values) {
  BatchBuilder b;
  for (const auto& v : values) b.add(1'700'000'000'000'000, std::nullopt, v, {});
  return b.finish().size();
}

class MetricsTest : public ::testing::Test {
 protected:
  // A broker with the metrics endpoint on an ephemeral port.
  ::testing::AssertionResult start(std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), {"--flush", "always"});
    auto ok = start_with_metrics(broker_, extra, &mport_);
    if (!ok) return ok;
    conn_.emplace(broker_.connect());
    return ::testing::AssertionSuccess();
  }
  client::Connection& c() { return *conn_; }

  std::string metrics_fetch() { return call<MetricsResponse>(c(), MetricsFetchRequest{}).text; }
  std::string scrape() {
    auto r = http_get(mport_, "/metrics");
    if (r.status != 200) throw TestFailure("GET /metrics: " + std::to_string(r.status) + " " + r.error);
    return r.body;
  }
  static Exposition parse(const std::string& text) {
    auto e = parse_exposition(text);
    if (!e) throw TestFailure(e.status().to_string());
    return std::move(*e);
  }
  // The value, or a test failure naming the series.
  static double v(const Exposition& e, const std::string& name, const Labels& labels = {}) {
    auto x = e.value(name, labels);
    if (!x) {
      std::string l;
      for (const auto& [k, val] : labels) l += k + "=" + val + " ";
      throw TestFailure("no sample " + name + " {" + l + "}");
    }
    return *x;
  }

  BrokerProcess broker_;
  std::optional<client::Connection> conn_;
  uint16_t mport_ = 0;
};

// Every histogram in the text: per label set (without le), the buckets in
// order have increasing le and non-decreasing counts, and the +Inf bucket
// equals _count.
void expect_histograms_cumulative(const Exposition& e) {
  size_t histograms = 0;
  for (const auto& f : e.families) {
    if (f.type != "histogram") continue;
    std::map<Labels, std::vector<std::pair<double, double>>> series;
    for (const auto& s : e.samples) {
      if (s.name != f.name + "_bucket") continue;
      Labels key = s.labels;
      key.erase("le");
      const std::string le = s.labels.at("le");
      series[key].push_back({le == "+Inf" ? HUGE_VAL : std::stod(le), s.value});
    }
    for (const auto& [labels, buckets] : series) {
      ++histograms;
      ASSERT_FALSE(buckets.empty());
      for (size_t i = 1; i < buckets.size(); ++i) {
        EXPECT_GT(buckets[i].first, buckets[i - 1].first) << f.name;
        EXPECT_GE(buckets[i].second, buckets[i - 1].second) << f.name << " le=" << buckets[i].first;
      }
      EXPECT_EQ(buckets.back().first, HUGE_VAL) << f.name;
      auto count = e.value(f.name + "_count", labels);
      ASSERT_TRUE(count) << f.name;
      EXPECT_EQ(buckets.back().second, *count) << f.name;
    }
  }
  EXPECT_GT(histograms, 5u);
}

// ------------------------------------------------------------ exact values

TEST_F(MetricsTest, ExactValuesAfterAKnownSequenceOfRequests) {
  ASSERT_TRUE(start());
  ASSERT_TRUE(call<CreateTopicResponse>(c(), CreateTopicRequest{"orders", 2}).success);

  // Produces: p0 gets batches of 3 and 2 records, p1 one of 1.
  const std::vector<std::string> b1 = {"a", "bb", "ccc"}, b2 = {"dddd", "eeeee"}, b3 = {"ffffff"};
  EXPECT_EQ(call<ProduceResponse>(c(), ProduceRequest{"orders", 0, b1}).base_offset, 0u);
  EXPECT_EQ(call<ProduceResponse>(c(), ProduceRequest{"orders", 0, b2}).base_offset, 3u);
  EXPECT_EQ(call<ProduceResponse>(c(), ProduceRequest{"orders", 1, b3}).base_offset, 0u);
  const uint64_t p0_bytes = batch_bytes(b1) + batch_bytes(b2), p1_bytes = batch_bytes(b3);

  // Fetches: v0 everything of p0 (both batches), FetchEx from offset 3 (the
  // second batch), v0 on p1.
  EXPECT_EQ(call<FetchResponse>(c(), FetchRequest{"", "orders", 0, 0, 1 << 20}).records.size(), 5u);
  EXPECT_EQ(call<FetchExResponse>(c(), FetchExRequest{"orders", 0, 3, 1 << 20, 0, 0}).records.size(), 2u);
  EXPECT_EQ(call<FetchResponse>(c(), FetchRequest{"", "orders", 1, 0, 1 << 20}).records.size(), 1u);

  // Commits: g is 3 behind on p0 and caught up on p1; h is caught up on p0.
  EXPECT_TRUE(call<OffsetCommitResponse>(c(), OffsetCommitRequest{"g", "orders", 0, 2}).success);
  EXPECT_TRUE(call<OffsetCommitResponse>(c(), OffsetCommitRequest{"g", "orders", 1, 1}).success);
  EXPECT_TRUE(call<OffsetCommitResponse>(c(), OffsetCommitRequest{"h", "orders", 0, 5}).success);

  // Errors: unknown topic (404), unknown partition (405); on the wire both
  // are the v0 code 10, the metrics count the broker's codes.
  EXPECT_EQ(call_error(c(), FetchRequest{"", "nope", 0, 0, 100}).code, v0(V0Code::kNotFound));
  EXPECT_EQ(call_error(c(), ProduceRequest{"orders", 7, {"x"}}).code, v0(V0Code::kNotFound));

  const Exposition e = parse(metrics_fetch());
  // Requests and errors by type.
  EXPECT_EQ(v(e, "rustlog_requests_total", {{"type", "CreateTopic"}}), 1);
  EXPECT_EQ(v(e, "rustlog_requests_total", {{"type", "Produce"}}), 4);
  EXPECT_EQ(v(e, "rustlog_requests_total", {{"type", "Fetch"}}), 3);
  EXPECT_EQ(v(e, "rustlog_requests_total", {{"type", "FetchEx"}}), 1);
  EXPECT_EQ(v(e, "rustlog_requests_total", {{"type", "OffsetCommit"}}), 3);
  EXPECT_EQ(v(e, "rustlog_requests_total", {{"type", "MetricsFetch"}}), 1);
  EXPECT_EQ(v(e, "rustlog_requests_total", {{"type", "Ping"}}), 0);
  EXPECT_EQ(v(e, "rustlog_request_errors_total", {{"type", "Fetch"}, {"code", "404"}}), 1);
  EXPECT_EQ(v(e, "rustlog_request_errors_total", {{"type", "Produce"}, {"code", "405"}}), 1);
  EXPECT_FALSE(e.value("rustlog_request_errors_total", {{"type", "OffsetCommit"}}));
  // Latency: one observation per answered request (errors included); the
  // MetricsFetch being answered is not in its own text yet.
  EXPECT_EQ(v(e, "rustlog_request_duration_seconds_count", {{"type", "Produce"}}), 4);
  EXPECT_EQ(v(e, "rustlog_request_duration_seconds_count", {{"type", "Fetch"}}), 3);
  EXPECT_EQ(v(e, "rustlog_request_duration_seconds_count", {{"type", "OffsetCommit"}}), 3);
  EXPECT_EQ(v(e, "rustlog_request_duration_seconds_bucket", {{"type", "Produce"}, {"le", "+Inf"}}), 4);
  EXPECT_GT(v(e, "rustlog_request_duration_seconds_sum", {{"type", "Produce"}}), 0);
  EXPECT_FALSE(e.value("rustlog_request_duration_seconds_count", {{"type", "MetricsFetch"}}));

  // Per partition.
  const Labels p0 = {{"topic", "orders"}, {"partition", "0"}}, p1 = {{"topic", "orders"}, {"partition", "1"}};
  EXPECT_EQ(v(e, "rustlog_partition_records_in_total", p0), 5);
  EXPECT_EQ(v(e, "rustlog_partition_records_in_total", p1), 1);
  EXPECT_EQ(v(e, "rustlog_partition_bytes_in_total", p0), p0_bytes);
  EXPECT_EQ(v(e, "rustlog_partition_bytes_in_total", p1), p1_bytes);
  EXPECT_EQ(v(e, "rustlog_partition_records_out_total", p0), 5 + 2);
  EXPECT_EQ(v(e, "rustlog_partition_records_out_total", p1), 1);
  EXPECT_EQ(v(e, "rustlog_partition_bytes_out_total", p0), p0_bytes + batch_bytes(b2));
  EXPECT_EQ(v(e, "rustlog_partition_bytes_out_total", p1), p1_bytes);
  EXPECT_EQ(v(e, "rustlog_partition_high_watermark", p0), 5);
  EXPECT_EQ(v(e, "rustlog_partition_high_watermark", p1), 1);
  EXPECT_EQ(v(e, "rustlog_partition_log_start_offset", p0), 0);
  EXPECT_EQ(v(e, "rustlog_partition_size_bytes", p0), p0_bytes);
  EXPECT_EQ(v(e, "rustlog_partition_size_bytes", p1), p1_bytes);
  EXPECT_EQ(v(e, "rustlog_partition_segments", p0), 1);
  EXPECT_EQ(v(e, "rustlog_partition_read_only", p0), 0);
  EXPECT_EQ(v(e, "rustlog_topics"), 2);      // orders + __consumer_offsets
  EXPECT_EQ(v(e, "rustlog_partitions"), 3);
  EXPECT_EQ(v(e, "rustlog_partitions_read_only"), 0);

  // Consumer groups: lag = high watermark - committed.
  EXPECT_EQ(v(e, "rustlog_consumer_groups"), 2);
  EXPECT_EQ(v(e, "rustlog_consumer_committed_offset", {{"group", "g"}, {"topic", "orders"}, {"partition", "0"}}), 2);
  EXPECT_EQ(v(e, "rustlog_consumer_lag", {{"group", "g"}, {"topic", "orders"}, {"partition", "0"}}), 5 - 2);
  EXPECT_EQ(v(e, "rustlog_consumer_lag", {{"group", "g"}, {"topic", "orders"}, {"partition", "1"}}), 0);
  EXPECT_EQ(v(e, "rustlog_consumer_lag", {{"group", "h"}, {"topic", "orders"}, {"partition", "0"}}), 0);
  EXPECT_EQ(v(e, "rustlog_consumer_committed_offset", {{"group", "h"}, {"topic", "orders"}, {"partition", "0"}}), 5);

  // Produce batch sizes: 3, 2 and 1 records.
  EXPECT_EQ(v(e, "rustlog_produce_batch_records_count"), 3);
  EXPECT_EQ(v(e, "rustlog_produce_batch_records_sum"), 6);
  EXPECT_EQ(v(e, "rustlog_produce_batch_records_bucket", {{"le", "1"}}), 1);
  EXPECT_EQ(v(e, "rustlog_produce_batch_records_bucket", {{"le", "2"}}), 2);
  EXPECT_EQ(v(e, "rustlog_produce_batch_records_bucket", {{"le", "4"}}), 3);
  EXPECT_EQ(v(e, "rustlog_produce_batch_bytes_sum"), p0_bytes + p1_bytes);

  // Durability: every acknowledged write (3 produces, 3 commits) waited for
  // one group-commit round, each its own (the client waits for each answer),
  // and each round synced one partition.
  EXPECT_EQ(v(e, "rustlog_group_commit_requests_sum"), 6);
  EXPECT_EQ(v(e, "rustlog_group_commit_requests_count"), 6);
  EXPECT_EQ(v(e, "rustlog_group_commit_partitions_sum"), 6);
  EXPECT_EQ(v(e, "rustlog_fsync_duration_seconds_count"), 6);
  EXPECT_EQ(v(e, "rustlog_fsync_errors_total"), 0);
  const double offsets_bytes = v(e, "rustlog_partition_size_bytes", {{"topic", "__consumer_offsets"}, {"partition", "0"}});
  EXPECT_GT(offsets_bytes, 0);
  EXPECT_EQ(v(e, "rustlog_group_commit_bytes_sum"), p0_bytes + p1_bytes + offsets_bytes);

  // Connections: this test's one.
  EXPECT_EQ(v(e, "rustlog_connections_open"), 1);
  EXPECT_EQ(v(e, "rustlog_connections_accepted_total"), 1);
  EXPECT_EQ(v(e, "rustlog_connections_rejected_total"), 0);
  EXPECT_EQ(v(e, "rustlog_connections_protocol_errors_total"), 0);
  EXPECT_EQ(v(e, "rustlog_corruption_events_total", {{"source", "read"}}), 0);
  EXPECT_EQ(v(e, "rustlog_corruption_events_total", {{"source", "recovery"}}), 0);

  expect_histograms_cumulative(e);

  // The group's lag moves with new data and new commits.
  call<ProduceResponse>(c(), ProduceRequest{"orders", 0, {"g1", "g2", "g3", "g4"}});
  const Exposition e2 = parse(metrics_fetch());
  EXPECT_EQ(v(e2, "rustlog_consumer_lag", {{"group", "g"}, {"topic", "orders"}, {"partition", "0"}}), 9 - 2);
  EXPECT_EQ(v(e2, "rustlog_consumer_lag", {{"group", "h"}, {"topic", "orders"}, {"partition", "0"}}), 9 - 5);
  call<OffsetCommitResponse>(c(), OffsetCommitRequest{"g", "orders", 0, 9});
  const Exposition e3 = parse(metrics_fetch());
  EXPECT_EQ(v(e3, "rustlog_consumer_lag", {{"group", "g"}, {"topic", "orders"}, {"partition", "0"}}), 0);
  // A deleted topic takes its partition and group series with it.
  call<DeleteTopicResponse>(c(), DeleteTopicRequest{"orders"});
  const Exposition e4 = parse(metrics_fetch());
  EXPECT_FALSE(e4.value("rustlog_partition_high_watermark", p0));
  EXPECT_FALSE(e4.value("rustlog_consumer_lag", {{"group", "g"}}));
  EXPECT_EQ(v(e4, "rustlog_consumer_groups"), 0);
}

TEST_F(MetricsTest, MetricsFetchAndHttpServeTheSameText) {
  ASSERT_TRUE(start());
  call<CreateTopicResponse>(c(), CreateTopicRequest{"t", 1});
  call<ProduceResponse>(c(), ProduceRequest{"t", 0, {"x", "y"}});
  call<OffsetCommitResponse>(c(), OffsetCommitRequest{"g", "t", 0, 1});
  call_error(c(), FetchRequest{"", "missing", 0, 0, 10});

  const std::string fetched = metrics_fetch();  // publishes a fresh snapshot
  const std::string http = scrape();            // reads that snapshot
  const Exposition a = parse(fetched), b = parse(http);

  // Same families, in the same order, with the same HELP and TYPE.
  ASSERT_EQ(a.families.size(), b.families.size());
  for (size_t i = 0; i < a.families.size(); ++i) {
    EXPECT_EQ(a.families[i].name, b.families[i].name);
    EXPECT_EQ(a.families[i].type, b.families[i].type);
    EXPECT_EQ(a.families[i].help, b.families[i].help);
  }
  // Same samples and values, except the MetricsFetch request's own latency
  // (recorded after its text was built), the bytes it had buffered and
  // reserved for its answer while it was built, the sends of that answer
  // held for the next turn (it is larger than --max-turn-write-bytes), and
  // the snapshot's time stamp if the loop's periodic publish ran in between.
  auto key = [](const metrics::Sample& s) {
    std::string k = s.name;
    for (const auto& [n, val] : s.labels) k += "," + n + "=" + val;
    return k;
  };
  auto skip = [](const metrics::Sample& s) {
    auto t = s.labels.find("type");
    return (t != s.labels.end() && t->second == "MetricsFetch" && s.name.rfind("rustlog_request_duration", 0) == 0) ||
           s.name == "rustlog_metrics_snapshot_timestamp_seconds" || s.name == "rustlog_output_bytes" ||
           s.name == "rustlog_input_bytes" || s.name == "rustlog_turn_write_budget_hits_total";
  };
  std::map<std::string, std::string> av, bv;
  for (const auto& s : a.samples)
    if (!skip(s)) av[key(s)] = s.value_text;
  for (const auto& s : b.samples)
    if (!skip(s)) bv[key(s)] = s.value_text;
  EXPECT_EQ(av, bv);
  EXPECT_GT(av.size(), 100u);
  EXPECT_EQ(b.value("rustlog_request_duration_seconds_count", {{"type", "MetricsFetch"}}), 1);
}

TEST_F(MetricsTest, HttpSnapshotCatchesUpWithoutAMetricsFetch) {
  ASSERT_TRUE(start());
  call<CreateTopicResponse>(c(), CreateTopicRequest{"t", 1});
  call<ProduceResponse>(c(), ProduceRequest{"t", 0, {"1", "2", "3", "4", "5", "6", "7"}});
  call<OffsetCommitResponse>(c(), OffsetCommitRequest{"g", "t", 0, 3});
  // No MetricsFetch: the loop publishes by itself within ~100 ms.
  const auto deadline = std::chrono::steady_clock::now() + scaled(5s);
  std::optional<double> lag;
  while (std::chrono::steady_clock::now() < deadline) {
    lag = parse(scrape()).value("rustlog_consumer_lag", {{"group", "g"}, {"topic", "t"}, {"partition", "0"}});
    if (lag == 4) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(lag, 4);
}

// ------------------------------------------------------------- promtool

TEST_F(MetricsTest, PromtoolAcceptsTheScrape) {
  const std::string kUtf8Group = "gr\xC3\xBC\xC3\x9F" "e \xE2\x9C\x93";  // "grüße ✓"
  const std::string promtool = find_executable("promtool");
  ASSERT_FALSE(promtool.empty()) << missing_tool_message("promtool");
  ASSERT_TRUE(start());
  // Traffic that fills every kind of series, including a group name that
  // needs escaping. (Names that are not valid UTF-8 cannot reach the broker:
  // the protocol refuses them; the renderer would replace such bytes, see
  // histogram_test.)
  call<CreateTopicResponse>(c(), CreateTopicRequest{"t", 2});
  for (uint32_t p = 0; p < 2; ++p) call<ProduceResponse>(c(), ProduceRequest{"t", p, {"a", "b"}});
  call<FetchExResponse>(c(), FetchExRequest{"t", 0, 0, 1 << 20, 0, 0});
  call<OffsetCommitResponse>(c(), OffsetCommitRequest{"quote\"back\\slash\nline", "t", 0, 1});
  call<OffsetCommitResponse>(c(), OffsetCommitRequest{kUtf8Group, "t", 1, 1});
  call_error(c(), FetchRequest{"", "missing", 0, 0, 10});
  call_error(c(), OffsetCommitRequest{"g", "t", 0, 99});  // 416
  // An unknown request type (counted as Unknown).
  (void)c().send_bytes(raw_frame("\x42"));
  (void)c().read_frame();
  metrics_fetch();

  const std::string text = scrape();
  const std::string path = broker_.root_dir() + "/scrape.txt";
  std::ofstream(path) << text;
  const CommandResult r = run_command({promtool, "check", "metrics"}, path);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(r.output, "") << "promtool lint findings:\n" << r.output;

  const Exposition e = parse(text);
  EXPECT_EQ(v(e, "rustlog_consumer_lag", {{"group", "quote\"back\\slash\nline"}, {"topic", "t"}, {"partition", "0"}}), 2 - 1);
  EXPECT_EQ(v(e, "rustlog_consumer_lag", {{"group", kUtf8Group}, {"topic", "t"}, {"partition", "1"}}), 2 - 1);
  EXPECT_EQ(v(e, "rustlog_requests_total", {{"type", "Unknown"}}), 1);
  EXPECT_EQ(v(e, "rustlog_request_errors_total", {{"type", "Unknown"}, {"code", "400"}}), 1);
  EXPECT_EQ(v(e, "rustlog_request_errors_total", {{"type", "OffsetCommit"}, {"code", "416"}}), 1);
  expect_histograms_cumulative(e);
}

// ------------------------------------------------------ a real Prometheus

TEST_F(MetricsTest, PrometheusScrapesTheBrokerAndReadsConsumerLag) {
  ASSERT_FALSE(find_executable("prometheus").empty()) << missing_tool_message("prometheus");
  ASSERT_TRUE(start());
  call<CreateTopicResponse>(c(), CreateTopicRequest{"lagtopic", 1});
  call<ProduceResponse>(c(), ProduceRequest{"lagtopic", 0, {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"}});
  call<OffsetCommitResponse>(c(), OffsetCommitRequest{"g", "lagtopic", 0, 4});

  PrometheusProcess prom;
  ASSERT_TRUE(prom.start("127.0.0.1:" + std::to_string(mport_)));
  const std::string q = "rustlog_consumer_lag{group=\"g\",topic=\"lagtopic\",partition=\"0\"}";
  auto wait_for = [&](double want) -> ::testing::AssertionResult {
    const auto deadline = std::chrono::steady_clock::now() + scaled(60s);
    std::optional<double> got;
    while (std::chrono::steady_clock::now() < deadline) {
      got = prom.query_value(q);
      if (got == want) return ::testing::AssertionSuccess();
      std::this_thread::sleep_for(250ms);
    }
    return ::testing::AssertionFailure() << q << " = " << (got ? std::to_string(*got) : "(no series)")
                                         << ", want " << want << "\ntargets: " << prom.targets() << "\n"
                                         << prom.log();
  };
  EXPECT_TRUE(wait_for(10 - 4));
  // The consumer catches up; the next scrapes show it.
  call<OffsetCommitResponse>(c(), OffsetCommitRequest{"g", "lagtopic", 0, 10});
  EXPECT_TRUE(wait_for(0));
  // The scrape is healthy and other series arrived too.
  EXPECT_EQ(prom.query_value("up{job=\"rustlog\"}"), 1);
  EXPECT_EQ(prom.query_value("rustlog_partition_high_watermark{topic=\"lagtopic\",partition=\"0\"}"), 10);
  EXPECT_EQ(prom.query_value("sum(rustlog_partition_records_in_total{topic=\"lagtopic\"})"), 10);
  // And histograms work with histogram_quantile.
  auto p99 = prom.query_value(
      "histogram_quantile(0.99, sum by (le) (rustlog_request_duration_seconds_bucket{type=\"Produce\"}))");
  ASSERT_TRUE(p99);
  EXPECT_GT(*p99, 0);
  EXPECT_LT(*p99, 60);
}

// ----------------------------------------------------------- connections

TEST_F(MetricsTest, ConnectionCountersCountAcceptsRejectsAndProtocolErrors) {
  ASSERT_TRUE(start({"--max-connections", "2"}));
  client::Connection second = broker_.connect();
  ASSERT_TRUE(pings(second));
  {
    client::Connection third = broker_.connect();  // over the limit: closed at once
    EXPECT_TRUE(third.wait_for_close(scaled(5s)));
  }
  // A frame length of 0 is a protocol violation: Error, then close.
  ASSERT_TRUE(second.send_bytes(std::string(4, '\0')));
  EXPECT_TRUE(second.wait_for_close(scaled(5s)));

  const auto deadline = std::chrono::steady_clock::now() + scaled(5s);
  Exposition e;
  while (std::chrono::steady_clock::now() < deadline) {
    e = parse(metrics_fetch());
    if (v(e, "rustlog_connections_open") == 1) break;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_EQ(v(e, "rustlog_connections_open"), 1);
  EXPECT_EQ(v(e, "rustlog_connections_accepted_total"), 2);
  EXPECT_EQ(v(e, "rustlog_connections_rejected_total"), 1);
  EXPECT_EQ(v(e, "rustlog_connections_protocol_errors_total"), 1);
}

// -------------------------------------------------------------- recovery

TEST_F(MetricsTest, RecoveryCountersReportWhatTheLastStartFound) {
  ASSERT_TRUE(start());
  call<CreateTopicResponse>(c(), CreateTopicRequest{"r", 2});
  call<ProduceResponse>(c(), ProduceRequest{"r", 0, {"one", "two"}});
  conn_.reset();
  ASSERT_EQ(broker_.stop(), 0);
  // A torn write after the clean shutdown: 37 bytes of garbage at the tail.
  std::string seg;
  for (const auto& f : std::filesystem::directory_iterator(broker_.data_dir() + "/r-0"))
    if (f.path().extension() == ".log") seg = f.path();
  ASSERT_FALSE(seg.empty());
  std::ofstream(seg, std::ios::app | std::ios::binary) << std::string(37, '\xAB');

  ASSERT_TRUE(start());
  const Exposition e = parse(metrics_fetch());
  EXPECT_EQ(v(e, "rustlog_recovery_partitions_total"), 3);  // r-0, r-1, __consumer_offsets-0
  EXPECT_EQ(v(e, "rustlog_recovery_truncated_bytes_total"), 37);
  EXPECT_GT(v(e, "rustlog_recovery_duration_seconds"), 0);
  EXPECT_GE(v(e, "rustlog_recovery_scanned_bytes_total"), 37);
  EXPECT_EQ(v(e, "rustlog_partition_high_watermark", {{"topic", "r"}, {"partition", "0"}}), 2);
  EXPECT_EQ(v(e, "rustlog_partitions_read_only"), 0);
  EXPECT_GT(v(e, "rustlog_start_time_seconds"), 1.6e9);
}

// ------------------------------------------------- the endpoint itself

TEST_F(MetricsTest, HealthAndContentTypeAndUnknownPaths) {
  ASSERT_TRUE(start());
  auto h = http_get(mport_, "/health");
  EXPECT_EQ(h.status, 200);
  EXPECT_EQ(h.body, "ok\n");
  auto m = http_get(mport_, "/metrics");
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.content_type, "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(http_get(mport_, "/nope").status, 404);
}

TEST_F(MetricsTest, ScrapesRunOnOneThreadAndNeverBlockRequests) {
  ASSERT_TRUE(start({"--sync-workers", "3"}));
  auto threads = [&] {
    size_t n = 0;
    for ([[maybe_unused]] const auto& t : std::filesystem::directory_iterator("/proc/" + std::to_string(broker_.pid()) + "/task")) ++n;
    return n;
  };
  // The loop, 3 sync workers, the cleaner's disk-wait worker, the metrics endpoint.
  EXPECT_EQ(threads(), 6u);
  call<CreateTopicResponse>(c(), CreateTopicRequest{"t", 1});
  std::atomic<bool> stop{false};
  std::atomic<int> scrapes{0}, failures{0};
  std::vector<std::thread> scrapers;
  for (int i = 0; i < 4; ++i)
    scrapers.emplace_back([&] {
      while (!stop) {
        auto r = http_get(mport_, "/metrics");
        (r.status == 200 ? scrapes : failures)++;
      }
    });
  size_t max_threads = 0;
  for (int i = 0; i < 200; ++i) {
    call<ProduceResponse>(c(), ProduceRequest{"t", 0, {"x"}});
    if (i % 20 == 0) max_threads = std::max(max_threads, threads());
  }
  stop = true;
  for (auto& t : scrapers) t.join();
  EXPECT_EQ(max_threads, 6u);  // concurrent scrapes add no threads
  EXPECT_GT(scrapes.load(), 0);
  EXPECT_EQ(failures.load(), 0);
  // The endpoint's snapshot catches up within ~100 ms.
  const auto deadline = std::chrono::steady_clock::now() + scaled(5s);
  double in = 0;
  while (std::chrono::steady_clock::now() < deadline) {
    // The partition's series appears with the first snapshot that has it.
    auto x = parse(scrape()).value("rustlog_partition_records_in_total",
                                   {{"topic", "t"}, {"partition", "0"}});
    in = x ? *x : 0;
    if (in == 200) break;
    std::this_thread::sleep_for(20ms);
  }
  EXPECT_EQ(in, 200);
}

TEST_F(MetricsTest, AMetricsPortInUseDoesNotStopTheBroker) {
  ASSERT_TRUE(start());
  BrokerProcess other;
  other.set_args({"--metrics-listen", "127.0.0.1:" + std::to_string(mport_)});
  ASSERT_TRUE(other.start());
  client::Connection oc = other.connect();
  EXPECT_TRUE(pings(oc));
  EXPECT_NE(other.log().find("metrics endpoint disabled"), std::string::npos) << other.log_tail();
  // MetricsFetch still works there.
  EXPECT_NE(call<MetricsResponse>(oc, MetricsFetchRequest{}).text.find("rustlog_requests_total"), std::string::npos);
  // And the first broker still serves its endpoint.
  EXPECT_EQ(http_get(mport_, "/health").status, 200);
}

}  // namespace
}  // namespace rustlog::test
