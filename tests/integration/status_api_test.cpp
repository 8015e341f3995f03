// End to end: GET /api/status (the status page's data) and GET / (the page)
// against a real kafka-lite process.
//  - after a known sequence of produces, fetches and commits, every number in
//    the document is exactly right and agrees with /metrics;
//  - rates rise while records flow and fall back to zero when idle;
//  - lag follows new records and new commits; a deleted topic leaves;
//  - the recovery summary counts what a restart reopened;
//  - the page is served self-contained (no external URL, a CSP that forbids
//    loading anything but this server).
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "metrics/exposition.h"
#include "support/broker_calls.h"
#include "support/broker_process.h"
#include "support/metrics_helpers.h"

namespace rustlog::test {
namespace {

using namespace protocol;
using namespace std::chrono_literals;
using nlohmann::json;
using Labels = std::map<std::string, std::string>;

class StatusApiTest : public ::testing::Test {
 protected:
  ::testing::AssertionResult start() {
    auto ok = start_with_metrics(broker_, {"--flush", "always"}, &mport_);
    if (!ok) return ok;
    conn_.emplace(broker_.connect());
    return ::testing::AssertionSuccess();
  }
  client::Connection& c() { return *conn_; }

  // MetricsFetch publishes a fresh snapshot first: the next /api/status
  // reads numbers as of now.
  metrics::Exposition fresh_metrics() {
    auto e = metrics::parse_exposition(call<MetricsResponse>(c(), MetricsFetchRequest{}).text);
    if (!e) throw TestFailure(e.status().to_string());
    return std::move(*e);
  }
  json status() {
    auto r = http_get(mport_, "/api/status");
    if (r.status != 200) throw TestFailure("GET /api/status: " + std::to_string(r.status) + " " + r.error);
    EXPECT_EQ(r.content_type, "application/json");
    return json::parse(r.body);
  }
  // Polls /api/status until pred holds (the loop publishes at least every
  // second); the last document either way.
  json status_until(const std::function<bool(const json&)>& pred, std::chrono::seconds timeout = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    json doc = status();
    while (!pred(doc) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(100ms);
      doc = status();
    }
    return doc;
  }

  BrokerProcess broker_;
  std::optional<client::Connection> conn_;
  uint16_t mport_ = 0;
};

const json* find_partition(const json& doc, const std::string& topic, uint32_t partition) {
  for (const auto& t : doc.at("topics"))
    if (t.at("name") == topic)
      for (const auto& p : t.at("partitions"))
        if (p.at("partition") == partition) return &p;
  return nullptr;
}
const json& partition(const json& doc, const std::string& topic, uint32_t p) {
  const json* j = find_partition(doc, topic, p);
  if (!j) throw TestFailure("no partition " + topic + "/" + std::to_string(p) + " in " + doc.dump());
  return *j;
}
const json* find_group_offset(const json& doc, const std::string& group, const std::string& topic, uint32_t p) {
  for (const auto& g : doc.at("groups"))
    if (g.at("group") == group)
      for (const auto& o : g.at("partitions"))
        if (o.at("topic") == topic && o.at("partition") == p) return &o;
  return nullptr;
}
const json& group_offset(const json& doc, const std::string& group, const std::string& topic, uint32_t p) {
  const json* j = find_group_offset(doc, group, topic, p);
  if (!j) throw TestFailure("no offset of " + group + " on " + topic + "/" + std::to_string(p) + " in " + doc.dump());
  return *j;
}

TEST_F(StatusApiTest, EveryNumberMatchesAKnownSequenceOfRequests) {
  ASSERT_TRUE(start());
  ASSERT_TRUE(call<CreateTopicResponse>(c(), CreateTopicRequest{"orders", 2}).success);
  call<ProduceResponse>(c(), ProduceRequest{"orders", 0, {"a", "bb", "ccc"}});
  call<ProduceResponse>(c(), ProduceRequest{"orders", 0, {"dddd", "eeeee"}});
  call<ProduceResponse>(c(), ProduceRequest{"orders", 1, {"ffffff"}});
  EXPECT_EQ(call<FetchResponse>(c(), FetchRequest{"", "orders", 0, 0, 1 << 20}).records.size(), 5u);
  EXPECT_TRUE(call<OffsetCommitResponse>(c(), OffsetCommitRequest{"billing", "orders", 0, 2}).success);
  EXPECT_TRUE(call<OffsetCommitResponse>(c(), OffsetCommitRequest{"billing", "orders", 1, 1}).success);
  EXPECT_TRUE(call<OffsetCommitResponse>(c(), OffsetCommitRequest{"audit", "orders", 0, 5}).success);

  const metrics::Exposition e = fresh_metrics();
  const json doc = status();
  auto m = [&](const std::string& name, const Labels& labels = {}) {
    auto x = e.value(name, labels);
    if (!x) throw TestFailure("no sample " + name);
    return *x;
  };

  // The process.
  const json& b = doc.at("broker");
  EXPECT_EQ(b.at("version"), e.find("rustlog_build_info")->labels.at("version"));
  EXPECT_EQ(b.at("listen"), "127.0.0.1:" + std::to_string(broker_.port()));
  EXPECT_EQ(b.at("data_dir"), broker_.data_dir());
  EXPECT_EQ(b.at("flush"), "always");
  EXPECT_EQ(b.at("pid"), broker_.pid());
  EXPECT_EQ(b.at("start_time_unix_ms").get<double>() / 1000.0, m("rustlog_start_time_seconds"));
  EXPECT_GE(b.at("now_unix_ms").get<int64_t>(), b.at("start_time_unix_ms").get<int64_t>());
  EXPECT_EQ(b.at("uptime_seconds"), (b.at("now_unix_ms").get<int64_t>() - b.at("start_time_unix_ms").get<int64_t>()) / 1000);
  EXPECT_EQ(doc.at("connections").at("open"), 1);
  EXPECT_EQ(doc.at("connections").at("accepted"), 1);
  EXPECT_EQ(doc.at("connections").at("rejected"), 0);
  EXPECT_EQ(doc.at("snapshot").at("taken_unix_ms").get<double>() / 1000.0,
            m("rustlog_metrics_snapshot_timestamp_seconds"));
  EXPECT_GE(doc.at("snapshot").at("age_ms").get<int64_t>(), 0);

  // Recovery of an empty data dir: nothing but the offsets topic's creation.
  const json& r = doc.at("recovery");
  EXPECT_EQ(r.at("partitions"), m("rustlog_recovery_partitions_total"));
  EXPECT_EQ(r.at("scanned_bytes"), 0);
  EXPECT_EQ(r.at("truncated_bytes"), 0);
  EXPECT_EQ(r.at("indexes_rebuilt"), 0);
  EXPECT_EQ(r.at("corrupt_ranges"), 0);
  EXPECT_NEAR(r.at("duration_ms").get<double>() / 1000.0, m("rustlog_recovery_duration_seconds"), 1e-9);

  // Partitions: every field equals its Prometheus series.
  for (uint32_t p = 0; p < 2; ++p) {
    const Labels l = {{"topic", "orders"}, {"partition", std::to_string(p)}};
    const json& j = partition(doc, "orders", p);
    EXPECT_EQ(j.at("high_watermark"), m("rustlog_partition_high_watermark", l)) << p;
    EXPECT_EQ(j.at("log_start_offset"), m("rustlog_partition_log_start_offset", l)) << p;
    EXPECT_EQ(j.at("size_bytes"), m("rustlog_partition_size_bytes", l)) << p;
    EXPECT_EQ(j.at("segments"), m("rustlog_partition_segments", l)) << p;
    EXPECT_EQ(j.at("records_in"), m("rustlog_partition_records_in_total", l)) << p;
    EXPECT_EQ(j.at("bytes_in"), m("rustlog_partition_bytes_in_total", l)) << p;
    EXPECT_EQ(j.at("records_out"), m("rustlog_partition_records_out_total", l)) << p;
    EXPECT_EQ(j.at("bytes_out"), m("rustlog_partition_bytes_out_total", l)) << p;
    EXPECT_EQ(j.at("read_only"), false) << p;
  }
  const json& p0 = partition(doc, "orders", 0);
  EXPECT_EQ(p0.at("high_watermark"), 5);
  EXPECT_EQ(p0.at("records"), 5);
  EXPECT_EQ(p0.at("records_out"), 5);
  EXPECT_EQ(partition(doc, "orders", 1).at("high_watermark"), 1);
  EXPECT_GT(p0.at("size_bytes").get<uint64_t>(), 0u);
  EXPECT_EQ(p0.at("segments"), 1);
  // The topics, internal ones marked.
  ASSERT_EQ(doc.at("topics").size(), 2u);
  EXPECT_EQ(doc.at("topics")[0].at("name"), "__consumer_offsets");
  EXPECT_EQ(doc.at("topics")[0].at("internal"), true);
  EXPECT_EQ(doc.at("topics")[1].at("name"), "orders");
  EXPECT_EQ(doc.at("topics")[1].at("internal"), false);
  const json& t = doc.at("totals");
  EXPECT_EQ(t.at("topics"), m("rustlog_topics"));
  EXPECT_EQ(t.at("partitions"), m("rustlog_partitions"));
  EXPECT_EQ(t.at("read_only_partitions"), 0);
  EXPECT_EQ(t.at("consumer_groups"), 2);
  EXPECT_EQ(t.at("size_bytes"), p0.at("size_bytes").get<uint64_t>() +
                                    partition(doc, "orders", 1).at("size_bytes").get<uint64_t>() +
                                    partition(doc, "__consumer_offsets", 0).at("size_bytes").get<uint64_t>());

  // Groups: committed offsets and lag = high watermark - committed.
  EXPECT_EQ(group_offset(doc, "billing", "orders", 0).at("committed"), 2);
  EXPECT_EQ(group_offset(doc, "billing", "orders", 0).at("high_watermark"), 5);
  EXPECT_EQ(group_offset(doc, "billing", "orders", 0).at("lag"), 3);
  EXPECT_EQ(group_offset(doc, "billing", "orders", 1).at("lag"), 0);
  EXPECT_EQ(group_offset(doc, "audit", "orders", 0).at("lag"), 0);
  ASSERT_EQ(doc.at("groups").size(), 2u);
  EXPECT_EQ(doc.at("groups")[0].at("group"), "audit");  // ordered by name
  EXPECT_EQ(doc.at("groups")[1].at("total_lag"), 3);

  // fsync: one flush per acknowledged write (3 produces, 3 commits), the
  // same count as the Prometheus histogram; quantiles in ms.
  const json& f = doc.at("fsync");
  EXPECT_EQ(f.at("count"), 6);
  EXPECT_EQ(f.at("count"), m("rustlog_fsync_duration_seconds_count"));
  EXPECT_EQ(f.at("errors"), 0);
  EXPECT_GT(f.at("p50_ms").get<double>(), 0.0);
  EXPECT_GE(f.at("p99_ms").get<double>(), f.at("p50_ms").get<double>());
  EXPECT_LE(f.at("recent").at("count").get<uint64_t>(), 6u);

  // Lag follows new records and commits.
  call<ProduceResponse>(c(), ProduceRequest{"orders", 0, {"x1", "x2", "x3", "x4"}});
  fresh_metrics();
  json d2 = status();
  EXPECT_EQ(group_offset(d2, "billing", "orders", 0).at("lag"), 9 - 2);
  EXPECT_EQ(group_offset(d2, "audit", "orders", 0).at("lag"), 9 - 5);
  EXPECT_EQ(d2.at("groups")[1].at("total_lag"), 7);
  call<OffsetCommitResponse>(c(), OffsetCommitRequest{"billing", "orders", 0, 9});
  fresh_metrics();
  EXPECT_EQ(group_offset(status(), "billing", "orders", 0).at("lag"), 0);

  // A deleted topic leaves the document, with its groups' offsets.
  call<DeleteTopicResponse>(c(), DeleteTopicRequest{"orders"});
  fresh_metrics();
  const json d3 = status();
  EXPECT_EQ(find_partition(d3, "orders", 0), nullptr);
  EXPECT_EQ(find_group_offset(d3, "billing", "orders", 0), nullptr);
  EXPECT_EQ(d3.at("totals").at("consumer_groups"), 0);
}

TEST_F(StatusApiTest, RatesRiseWhileRecordsFlowAndFallToZeroWhenIdle) {
  ASSERT_TRUE(start());
  call<CreateTopicResponse>(c(), CreateTopicRequest{"flow", 1});
  for (int i = 0; i < 20; ++i) call<ProduceResponse>(c(), ProduceRequest{"flow", 0, {"r1", "r2", "r3", "r4", "r5"}});
  call<FetchResponse>(c(), FetchRequest{"", "flow", 0, 0, 1 << 20});

  // 100 records produced and fetched inside the trailing window (about 5 s):
  // the next snapshot's rates are positive, and at most what the window allows.
  fresh_metrics();
  const json busy = status();
  const json& p = partition(busy, "flow", 0);
  const double window_s = busy.at("snapshot").at("window_ms").get<double>() / 1000.0;
  EXPECT_GT(p.at("records_in_per_sec").get<double>(), 0.0) << busy.dump();
  EXPECT_GT(p.at("bytes_in_per_sec").get<double>(), 0.0);
  EXPECT_GT(p.at("records_out_per_sec").get<double>(), 0.0);
  EXPECT_GT(p.at("bytes_out_per_sec").get<double>(), 0.0);
  EXPECT_LE(p.at("records_in_per_sec").get<double>(), 100.0 / 0.001);  // at least 1 ms of window
  EXPECT_GT(busy.at("totals").at("records_in_per_sec").get<double>(), 0.0);
  EXPECT_GT(busy.at("fsync").at("recent").at("count").get<uint64_t>(), 0u);
  EXPECT_GT(window_s, 0.0);

  // Idle: once the window has moved past the traffic, every rate is 0 and
  // no flush is recent.
  const json idle = status_until([](const json& d) {
    const json* q = find_partition(d, "flow", 0);
    return q && q->at("records_in_per_sec") == 0.0 && q->at("records_out_per_sec") == 0.0 &&
           d.at("fsync").at("recent").at("count") == 0;
  });
  const json& q = partition(idle, "flow", 0);
  EXPECT_EQ(q.at("records_in_per_sec"), 0.0) << idle.dump();
  EXPECT_EQ(q.at("bytes_out_per_sec"), 0.0);
  EXPECT_EQ(idle.at("fsync").at("recent").at("count"), 0);
  EXPECT_EQ(idle.at("fsync").at("recent").at("p99_ms"), nullptr);
  EXPECT_EQ(idle.at("fsync").at("count"), 20);  // one flush per produce; the totals stay
}

TEST_F(StatusApiTest, RecoverySummaryCountsWhatARestartReopened) {
  ASSERT_TRUE(start());
  call<CreateTopicResponse>(c(), CreateTopicRequest{"kept", 3});
  for (uint32_t p = 0; p < 3; ++p) call<ProduceResponse>(c(), ProduceRequest{"kept", p, {"a", "b"}});
  conn_.reset();
  ASSERT_EQ(broker_.stop(), 0);
  ASSERT_TRUE(start());
  const json doc = status();
  EXPECT_EQ(doc.at("recovery").at("partitions"), 4);  // kept x3 + __consumer_offsets
  EXPECT_EQ(doc.at("recovery").at("corrupt_ranges"), 0);
  EXPECT_GT(doc.at("recovery").at("duration_ms").get<double>(), 0.0);
  for (uint32_t p = 0; p < 3; ++p) EXPECT_EQ(partition(doc, "kept", p).at("high_watermark"), 2);
  // Traffic counters start again at zero; the logs keep their records.
  EXPECT_EQ(partition(doc, "kept", 0).at("records_in"), 0);
  EXPECT_EQ(partition(doc, "kept", 0).at("records"), 2);
}

TEST_F(StatusApiTest, PageIsServedSelfContained) {
  ASSERT_TRUE(start());
  httplib::Client http("127.0.0.1", mport_);
  auto r = http.Get("/");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/html; charset=utf-8");
  const std::string csp = r->get_header_value("Content-Security-Policy");
  EXPECT_TRUE(has_substr(csp, "default-src 'none'"));
  EXPECT_TRUE(has_substr(csp, "connect-src 'self'"));
  const std::string& page = r->body;
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_TRUE(has_substr(page, "fetch(\"/api/status\""));
  // Nothing loaded from elsewhere: no absolute URL, no external script,
  // stylesheet or image.
  EXPECT_EQ(page.find("http://"), std::string::npos);
  EXPECT_EQ(page.find("https://"), std::string::npos);
  EXPECT_EQ(page.find("<script src"), std::string::npos);
  EXPECT_EQ(page.find("<link"), std::string::npos);
  EXPECT_EQ(page.find("<img"), std::string::npos);
  EXPECT_TRUE(has_substr(page, "</html>"));
}

}  // namespace
}  // namespace rustlog::test
