// BrokerMetrics (metrics/broker_metrics.h): every family it renders has HELP
// and TYPE lines and follows the Prometheus naming conventions.
#include "metrics/broker_metrics.h"

#include <gtest/gtest.h>

#include <string>

#include "metrics/exposition.h"

namespace rustlog::metrics {
namespace {

TEST(BrokerMetricsRender, EveryFamilyHasHelpAndTypeAndNamesFollowConventions) {
  BrokerMetrics m;
  m.on_request(0x01);
  m.on_response(0x01, 2'000'000);
  m.on_request(0x42);  // unknown type
  m.on_error(0x42, ErrorCode::kInvalidRequest);
  auto snap = std::make_unique<MetricsSnapshot>();
  snap->partitions.push_back({"t", 0, 3, 300, 2, 200, 3, 0, 300, 1, false});
  snap->groups.push_back({"g", "t", 0, 1, 3, 2});
  m.snapshots().publish(std::move(snap));
  const std::string text = m.render();
  auto e = parse_exposition(text);
  ASSERT_TRUE(e) << e.status().to_string();
  for (const auto& f : e->families) {
    EXPECT_EQ(f.name.rfind("rustlog_", 0), 0u) << f.name;
    EXPECT_FALSE(f.help.empty()) << f.name;
    ASSERT_TRUE(f.type == "counter" || f.type == "gauge" || f.type == "histogram") << f.name;
    const bool total = f.name.size() > 6 && f.name.compare(f.name.size() - 6, 6, "_total") == 0;
    EXPECT_EQ(total, f.type == "counter") << f.name;
  }
  for (const auto& s : e->samples) {
    std::string base = s.name;
    for (const char* suf : {"_bucket", "_sum", "_count"})
      if (!e->family(base) && base.size() > strlen(suf) && base.compare(base.size() - strlen(suf), strlen(suf), suf) == 0)
        base.resize(base.size() - strlen(suf));
    EXPECT_NE(e->family(base), nullptr) << "sample without a family: " << s.name;
  }
  EXPECT_EQ(e->value("rustlog_requests_total", {{"type", "Produce"}}), 1);
  EXPECT_EQ(e->value("rustlog_requests_total", {{"type", "Unknown"}}), 1);
  EXPECT_EQ(e->value("rustlog_request_errors_total", {{"type", "Unknown"}, {"code", "400"}}), 1);
  EXPECT_EQ(e->value("rustlog_request_duration_seconds_count", {{"type", "Produce"}}), 1);
  EXPECT_EQ(e->value("rustlog_request_duration_seconds_sum", {{"type", "Produce"}}), 0.002);
  EXPECT_EQ(e->value("rustlog_consumer_lag", {{"group", "g"}, {"topic", "t"}, {"partition", "0"}}), 2);
  EXPECT_EQ(e->value("rustlog_partition_bytes_in_total", {{"topic", "t"}, {"partition", "0"}}), 300);
  EXPECT_EQ(e->value("rustlog_consumer_groups"), 1);
}

}  // namespace
}  // namespace rustlog::metrics
