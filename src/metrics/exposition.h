#pragma once
// The Prometheus text exposition format (version 0.0.4): a small writer used
// by the broker's renderer, and a strict parser for what it writes, used by
// tests. (`rustlog metrics` uses the lenient client::parse_prometheus_text;
// both share the lexical rules in protocol/prometheus_text.h.)
//
//   # HELP rustlog_requests_total Requests received, by request type.
//   # TYPE rustlog_requests_total counter
//   rustlog_requests_total{type="Produce"} 42
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "metrics/histogram.h"
#include "common/status.h"

namespace rustlog::metrics {

inline constexpr const char* kExpositionContentType = "text/plain; version=0.0.4; charset=utf-8";

using Label = std::pair<std::string_view, std::string_view>;

class ExpositionWriter {
 public:
  explicit ExpositionWriter(std::string& out) : out_(out) {}

  // "# HELP" and "# TYPE" lines; type is counter, gauge or histogram.
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, std::initializer_list<Label> labels, uint64_t value);
  void sample(std::string_view name, std::initializer_list<Label> labels, int64_t value);
  // A value already formatted as a Prometheus float ("0.25", "+Inf", ...).
  void sample_text(std::string_view name, std::initializer_list<Label> labels, std::string_view value);
  // The _bucket (cumulative, le = bound * 10^-decimals as an exact decimal),
  // _sum and _count samples of one histogram. `decimals` = 9 turns
  // nanoseconds into seconds, 0 keeps the base unit.
  void histogram(std::string_view name, std::initializer_list<Label> labels, const HistogramSnapshot& h,
                 unsigned decimals);

 private:
  void labels(std::initializer_list<Label> labels, const Label* extra = nullptr);
  std::string& out_;
};

// v * 10^-decimals as the shortest exact decimal: (1250, 9) -> "0.00000125".
std::string scaled_decimal(uint64_t v, unsigned decimals);
// A label value escaped for the text format (\\, \", \n), with bytes that are
// not valid UTF-8 replaced by U+FFFD (Prometheus rejects invalid UTF-8).
std::string escape_label_value(std::string_view v);

// ------------------------------------------------------------------ parsing

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
  std::string value_text;  // as written
};

struct Family {
  std::string name;
  std::string type;  // counter, gauge, histogram, ... ("untyped" without a TYPE line)
  std::string help;
};

struct Exposition {
  std::vector<Family> families;  // in order of appearance
  std::vector<Sample> samples;   // in order of appearance

  // The first sample with this name whose labels include all of `labels`.
  const Sample* find(std::string_view name, const std::map<std::string, std::string>& labels = {}) const;
  std::optional<double> value(std::string_view name, const std::map<std::string, std::string>& labels = {}) const;
  const Family* family(std::string_view name) const;
};

// Parses the text format (HELP/TYPE comments, samples with optional labels
// and an optional timestamp). 400 naming the line on malformed input.
Result<Exposition> parse_exposition(std::string_view text);

}  // namespace rustlog::metrics
