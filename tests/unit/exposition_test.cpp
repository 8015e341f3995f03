// The Prometheus text writer and parser (metrics/exposition.h): exact scaled
// decimals, escaped label values, histograms that parse back cumulative, and
// garbage rejected.
#include "metrics/exposition.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "metrics/histogram.h"

namespace rustlog::metrics {
namespace {

TEST(Exposition, ScaledDecimalIsExact) {
  EXPECT_EQ(scaled_decimal(0, 9), "0");
  EXPECT_EQ(scaled_decimal(1000, 9), "0.000001");
  EXPECT_EQ(scaled_decimal(1250, 9), "0.00000125");
  EXPECT_EQ(scaled_decimal(67'108'864'000, 9), "67.108864");
  EXPECT_EQ(scaled_decimal(1'700'000'000'123, 3), "1700000000.123");
  EXPECT_EQ(scaled_decimal(96, 0), "96");
}

TEST(Exposition, LabelValuesAreEscapedAndValidUtf8) {
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(escape_label_value("gr\xC3\xBC\xC3\x9F"), "gr\xC3\xBC\xC3\x9F");  // valid UTF-8 kept
  EXPECT_EQ(escape_label_value("x\xFFy"), "x\xEF\xBF\xBDy");                    // invalid byte replaced
  EXPECT_EQ(escape_label_value("\xC0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD");        // overlong NUL
}

TEST(Exposition, RenderedHistogramParsesBackCumulative) {
  LatencyHistogram h;
  for (uint64_t v : {500u, 1100u, 1100u, 3000u, 2'000'000'000u}) h.record(v);
  std::string text;
  ExpositionWriter w(text);
  w.family("x_seconds", "histogram", "Test.");
  w.histogram("x_seconds", {{"type", "a\"b"}}, h.snapshot(), 9);
  auto e = parse_exposition(text);
  ASSERT_TRUE(e) << e.status().to_string();
  ASSERT_NE(e->family("x_seconds"), nullptr);
  EXPECT_EQ(e->family("x_seconds")->type, "histogram");
  double prev_le = -1, prev = -1;
  size_t buckets = 0;
  for (const auto& s : e->samples) {
    if (s.name != "x_seconds_bucket") continue;
    ++buckets;
    EXPECT_EQ(s.labels.at("type"), "a\"b");
    const double le = s.labels.at("le") == "+Inf" ? HUGE_VAL : std::stod(s.labels.at("le"));
    EXPECT_GT(le, prev_le);
    EXPECT_GE(s.value, prev);
    prev_le = le;
    prev = s.value;
  }
  EXPECT_EQ(buckets, kLatencyLayout.buckets());
  EXPECT_EQ(prev, 5);
  EXPECT_EQ(e->value("x_seconds_count"), 5);
  EXPECT_EQ(e->value("x_seconds_bucket", {{"le", "0.000001"}}), 1);
  EXPECT_EQ(e->value("x_seconds_bucket", {{"le", "0.00000125"}}), 3);
  EXPECT_EQ(e->find("x_seconds_sum")->value_text, "2.0000057");
}

TEST(Exposition, ParserRejectsGarbage) {
  EXPECT_FALSE(parse_exposition("metric{a=\"x} 1\n"));
  EXPECT_FALSE(parse_exposition("metric one\n"));
  EXPECT_FALSE(parse_exposition("{a=\"b\"} 1\n"));
  auto ok = parse_exposition("# a comment\nm 1 1700000000000\nn{a=\"1\",b=\"2\"} -3.5e2\n");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->value("m"), 1);
  EXPECT_EQ(ok->value("n", {{"b", "2"}}), -350);
}

}  // namespace
}  // namespace rustlog::metrics
