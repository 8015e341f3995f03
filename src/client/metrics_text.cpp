#include "client/metrics_text.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "protocol/prometheus_text.h"

namespace rustlog::client {

namespace {

using protocol::prometheus::is_name_char;
using protocol::prometheus::parse_value;

bool has_suffix(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The family a sample name belongs to, given the families seen so far.
std::string family_of(const std::string& sample, const std::map<std::string, size_t>& known) {
  if (known.count(sample)) return sample;
  for (std::string_view suffix : {"_bucket", "_sum", "_count", "_total", "_created"}) {
    if (has_suffix(sample, suffix)) {
      std::string base = sample.substr(0, sample.size() - suffix.size());
      if (known.count(base)) return base;
    }
  }
  return sample;
}

}  // namespace

std::optional<std::string> MetricSample::label(std::string_view name_) const {
  for (const auto& [k, v] : labels)
    if (k == name_) return v;
  return std::nullopt;
}

std::string MetricSample::labels_text(std::string_view skip) const {
  std::string out;
  for (const auto& [k, v] : labels) {
    if (k == skip) continue;
    out += out.empty() ? "" : ",";
    out += k + "=" + v;
  }
  return out;
}

ClientResult<std::vector<MetricFamily>> parse_prometheus_text(std::string_view text) {
  std::vector<MetricFamily> families;
  std::map<std::string, size_t> index;
  auto family = [&](const std::string& name) -> MetricFamily& {
    auto it = index.find(name);
    if (it != index.end()) return families[it->second];
    index[name] = families.size();
    families.push_back(MetricFamily{name, "untyped", "", {}});
    return families.back();
  };
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t eol = text.find('\n', pos);
    if (eol == std::string_view::npos) eol = text.size();
    std::string_view line = text.substr(pos, eol - pos);
    pos = eol + 1;
    ++line_no;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ' || line.back() == '\t')) line.remove_suffix(1);
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    if (line.empty()) continue;
    auto bad = [&](const std::string& why) {
      return ClientError(ErrorSource::kClient, ErrorCode::kInvalidRequest,
                         "metrics text line " + std::to_string(line_no) + ": " + why);
    };
    if (line.front() == '#') {
      // "# HELP name text" / "# TYPE name type"; other comments are ignored.
      std::string_view rest = line.substr(1);
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      const bool help = rest.substr(0, 5) == "HELP ";
      const bool type = rest.substr(0, 5) == "TYPE ";
      if (!help && !type) continue;
      rest.remove_prefix(5);
      while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
      const size_t sp = rest.find(' ');
      const std::string name(rest.substr(0, sp));
      std::string_view arg = sp == std::string_view::npos ? std::string_view() : rest.substr(sp + 1);
      if (name.empty()) return bad("HELP/TYPE without a metric name");
      MetricFamily& f = family(name);
      if (help) {
        f.help = protocol::prometheus::unescape_help(arg);
      } else {
        f.type = std::string(arg);
      }
      continue;
    }
    MetricSample s;
    size_t i = 0;
    while (i < line.size() && is_name_char(line[i], i == 0)) ++i;
    if (i == 0) return bad("expected a metric name");
    s.name = std::string(line.substr(0, i));
    if (i < line.size() && line[i] == '{') {
      ++i;
      for (;;) {
        while (i < line.size() && (line[i] == ' ' || line[i] == ',')) ++i;
        if (i < line.size() && line[i] == '}') {
          ++i;
          break;
        }
        const size_t k0 = i;
        while (i < line.size() && is_name_char(line[i], i == k0)) ++i;
        if (i == k0) return bad("expected a label name");
        std::string key(line.substr(k0, i - k0));
        if (i + 1 >= line.size() || line[i] != '=' || line[i + 1] != '"') return bad("expected =\" after label " + key);
        i += 2;
        std::string value;
        if (!protocol::prometheus::read_label_value(line, &i, &value))
          return bad("unterminated label value");
        s.labels.emplace_back(std::move(key), std::move(value));
      }
    }
    while (i < line.size() && line[i] == ' ') ++i;
    std::string_view rest = line.substr(i);
    const size_t sp = rest.find(' ');  // an optional timestamp follows
    auto v = parse_value(rest.substr(0, sp));
    if (!v) return bad("bad value '" + std::string(rest.substr(0, sp)) + "'");
    s.value = *v;
    family(family_of(s.name, index)).samples.push_back(std::move(s));
  }
  return families;
}

std::optional<double> HistogramSummary::quantile(double q) const {
  if (count <= 0 || buckets.empty()) return std::nullopt;
  const double rank = q * count;
  double prev_bound = 0, prev_count = 0;
  for (const auto& [bound, cum] : buckets) {
    if (cum >= rank) {
      if (std::isinf(bound)) return prev_bound;  // above the last finite bucket
      if (cum == prev_count) return bound;
      return prev_bound + (bound - prev_bound) * (rank - prev_count) / (cum - prev_count);
    }
    prev_bound = bound;
    prev_count = cum;
  }
  return prev_bound;
}

std::vector<HistogramSummary> summarize_histogram(const MetricFamily& family) {
  std::vector<HistogramSummary> out;
  auto series = [&](const MetricSample& s) -> HistogramSummary& {
    std::vector<std::pair<std::string, std::string>> labels;
    for (const auto& l : s.labels)
      if (l.first != "le") labels.push_back(l);
    for (auto& h : out)
      if (h.labels == labels) return h;
    out.push_back(HistogramSummary{labels, 0, 0, {}});
    return out.back();
  };
  for (const auto& s : family.samples) {
    if (s.name == family.name + "_bucket") {
      auto le = s.label("le");
      if (!le) continue;
      auto bound = parse_value(*le);
      if (!bound) continue;
      series(s).buckets.emplace_back(*bound, s.value);
    } else if (s.name == family.name + "_sum") {
      series(s).sum = s.value;
    } else if (s.name == family.name + "_count") {
      series(s).count = s.value;
    }
  }
  for (auto& h : out) std::sort(h.buckets.begin(), h.buckets.end());
  return out;
}

}  // namespace rustlog::client
