#pragma once
// A parser for the Prometheus text exposition format (version 0.0.4), which
// is what the broker's MetricsFetch request and its /metrics endpoint return.
// Generic: it knows no metric names, so it keeps working as metrics are added.
//
//   auto text = client.metrics_text();
//   auto families = client::parse_prometheus_text(*text);
//   for (const auto& f : *families)
//     for (const auto& s : f.samples) std::cout << s.name << " " << s.value << "\n";
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "client/errors.h"

namespace rustlog::client {

struct MetricSample {
  std::string name;  // as exposed, e.g. rustlog_request_duration_seconds_bucket
  std::vector<std::pair<std::string, std::string>> labels;  // in exposition order
  double value = 0;
  // The value of a label, or nullopt.
  std::optional<std::string> label(std::string_view name) const;
  // `name{a="x",b="y"}` (labels unescaped, values quoted).
  std::string labels_text(std::string_view skip = {}) const;
};

struct MetricFamily {
  std::string name;
  std::string type = "untyped";  // counter, gauge, histogram, summary, untyped
  std::string help;
  std::vector<MetricSample> samples;
};

// Families in the order they appear. Samples named <family>_bucket / _sum /
// _count (histograms, summaries) or <family>_total belong to their family.
// A malformed line fails with a kClient error naming the line number.
ClientResult<std::vector<MetricFamily>> parse_prometheus_text(std::string_view text);

// A histogram series (one label set of one histogram family), summarised.
struct HistogramSummary {
  std::vector<std::pair<std::string, std::string>> labels;  // without "le"
  double count = 0;
  double sum = 0;
  // Quantile estimates by linear interpolation inside the buckets (as
  // Prometheus' histogram_quantile does); nullopt without observations.
  std::optional<double> quantile(double q) const;
  std::vector<std::pair<double, double>> buckets;  // (upper bound, cumulative count), ascending
};

// The series of a histogram family, one per label set (without "le").
std::vector<HistogramSummary> summarize_histogram(const MetricFamily& family);

}  // namespace rustlog::client
