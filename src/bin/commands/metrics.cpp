// `rustlog metrics`: the broker's metrics (MetricsFetch), readable.
//
// The Prometheus text is parsed generically (client/metrics_text.h): every
// counter and gauge prints as a row, every histogram as count / mean /
// quantiles, and the consumer groups' lag gets its own table, found by shape
// (a gauge named *_lag with group/topic/partition labels) rather than by an
// exact metric name.
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "bin/commands/commands.h"
#include "bin/commands/net_common.h"
#include "client/metrics_text.h"

namespace rustlog::cli {
namespace {

struct MetricsArgs {
  NetArgs net;
  std::string filter;
  bool raw = false;
  bool all = false;
};

std::string num(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) std::snprintf(buf, sizeof buf, "%.0f", v);
  else if (std::fabs(v) >= 1e5 && std::fabs(v) < 1e15) std::snprintf(buf, sizeof buf, "%.3f", v);
  else std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}

// Seconds-valued histograms read better in ms.
std::string hist_value(const std::string& family, double v) {
  if (family.size() > 8 && family.substr(family.size() - 8) == "_seconds") {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.3f ms", v * 1000.0);
    return buf;
  }
  return num(v);
}

nlohmann::json jnum(double v) {
  if (std::isnan(v) || std::isinf(v)) return nullptr;
  return v;
}

bool has_suffix(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

struct LagRow {
  std::string group, topic, partition;
  std::optional<double> committed, lag;
};

// Consumer lag by shape: a family *_lag with group/topic/partition labels,
// and a family *committed* with the same labels for the committed offset.
std::vector<LagRow> lag_rows(const std::vector<client::MetricFamily>& families) {
  std::map<std::tuple<std::string, std::string, std::string>, LagRow> rows;
  for (const auto& f : families) {
    const bool lag = has_suffix(f.name, "_lag");
    const bool committed = f.name.find("committed") != std::string::npos;
    if (!lag && !committed) continue;
    for (const auto& s : f.samples) {
      auto g = s.label("group"), t = s.label("topic"), p = s.label("partition");
      if (!g || !t || !p) continue;
      LagRow& r = rows[{*g, *t, *p}];
      r.group = *g;
      r.topic = *t;
      r.partition = *p;
      if (lag) r.lag = s.value;
      else r.committed = s.value;
    }
  }
  std::vector<LagRow> out;
  for (auto& [k, r] : rows) out.push_back(std::move(r));
  return out;
}

int run_metrics(const MetricsArgs& a) {
  auto c = connect_or_report("metrics", a.net);
  if (!c) return 1;
  auto text = c->metrics_text();
  if (!text) return fail_client("metrics", text.error());
  if (a.raw) {
    out(*text);
    return 0;
  }
  auto families = client::parse_prometheus_text(*text);
  if (!families) return fail("metrics: the broker's metrics could not be parsed: " + families.error().message());
  auto wanted = [&](const client::MetricFamily& f) {
    return a.filter.empty() || f.name.find(a.filter) != std::string::npos;
  };
  const auto lags = lag_rows(*families);

  if (a.net.json) {
    nlohmann::json fams = nlohmann::json::array();
    for (const auto& f : *families) {
      if (!wanted(f)) continue;
      nlohmann::json samples = nlohmann::json::array();
      for (const auto& s : f.samples) {
        nlohmann::json labels = nlohmann::json::object();
        for (const auto& [k, v] : s.labels) labels[k] = v;
        samples.push_back({{"name", s.name}, {"labels", labels}, {"value", jnum(s.value)}});
      }
      fams.push_back({{"name", f.name}, {"type", f.type}, {"help", f.help}, {"samples", samples}});
    }
    nlohmann::json lag = nlohmann::json::array();
    for (const auto& r : lags)
      lag.push_back({{"group", r.group},
                     {"topic", r.topic},
                     {"partition", std::stoul(r.partition)},
                     {"committed", r.committed ? jnum(*r.committed) : nlohmann::json(nullptr)},
                     {"lag", r.lag ? jnum(*r.lag) : nlohmann::json(nullptr)}});
    print_json({{"broker", c->broker()}, {"families", fams}, {"consumer_lag", lag}});
    return 0;
  }

  Table values({"METRIC", "LABELS", "VALUE"}, {false, false, true});
  Table hists({"HISTOGRAM", "LABELS", "COUNT", "MEAN", "P50", "P99"}, {false, false, true, true, true, true});
  size_t hidden = 0;
  for (const auto& f : *families) {
    if (!wanted(f)) continue;
    if (f.type == "histogram") {
      for (const auto& h : client::summarize_histogram(f)) {
        if (h.count == 0 && !a.all) {
          ++hidden;
          continue;
        }
        std::string labels;
        for (const auto& [k, v] : h.labels) labels += (labels.empty() ? "" : ",") + k + "=" + v;
        auto q = [&](double x) {
          auto v = h.quantile(x);
          return v ? hist_value(f.name, *v) : std::string("-");
        };
        hists.add({f.name, labels, num(h.count), h.count > 0 ? hist_value(f.name, h.sum / h.count) : "-", q(0.5),
                   q(0.99)});
      }
      continue;
    }
    for (const auto& s : f.samples) {
      // Zero-valued labelled series (e.g. one per request type) are noise.
      if (!a.all && !s.labels.empty() && s.value == 0) {
        ++hidden;
        continue;
      }
      values.add({s.name, s.labels_text(), num(s.value)});
    }
  }
  out_line("Metrics of " + c->broker() + (c->server().server_version.empty() ? "" : " (" + c->server().server_version + ")"));
  out_line("");
  values.print();
  if (!hists.empty()) {
    out_line("");
    hists.print();
  }
  if (!lags.empty() && (a.filter.empty() || std::string("consumer_lag").find(a.filter) != std::string::npos ||
                        a.filter.find("lag") != std::string::npos)) {
    out_line("");
    out_line("Consumer lag");
    Table t({"GROUP", "TOPIC", "PARTITION", "COMMITTED", "LAG"}, {false, false, true, true, true});
    for (const auto& r : lags)
      t.add({r.group, r.topic, r.partition, r.committed ? num(*r.committed) : "-", r.lag ? num(*r.lag) : "-"});
    t.print();
  }
  if (hidden > 0) {
    out_line("");
    out_line("(" + std::to_string(hidden) + " zero-valued series not shown; --all shows them, --raw prints the "
             "Prometheus text)");
  }
  return 0;
}

}  // namespace

void register_metrics_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<MetricsArgs>();
  CLI::App* cmd = app.add_subcommand("metrics", "Show the broker's metrics: counters, gauges, latencies, consumer lag");
  cmd->group(kBrokerGroup);
  cmd->add_option("FILTER", a->filter, "Only metrics whose name contains this text");
  cmd->add_flag("--all", a->all, "Also show zero-valued labelled series and empty histograms");
  cmd->add_flag("--raw", a->raw, "Print the Prometheus text exposition as the broker sends it");
  add_net_options(cmd, a->net);
  cmd->footer(
      "The same numbers as the broker's HTTP endpoint (http://127.0.0.1:9464/metrics by default),\n"
      "fetched over the broker's own protocol. Histograms show their count, mean and estimated\n"
      "median and 99th percentile; the consumer lag table lists every group's committed offset and\n"
      "lag per partition.\n"
      "\n"
      "Examples:\n"
      "  rustlog metrics\n"
      "  rustlog metrics request_duration\n"
      "  rustlog metrics --json\n"
      "  rustlog metrics --raw | grep rustlog_consumer_lag");
  cmd->callback([&ctx, a] { ctx.exit_code = run_metrics(*a); });
}

void register_client_commands(CLI::App& app, Context& ctx) {
  register_ping_command(app, ctx);
  register_topic_commands(app, ctx);
  register_produce_command(app, ctx);
  register_consume_command(app, ctx);
  register_group_commands(app, ctx);
  register_metrics_command(app, ctx);
  register_top_command(app, ctx);
  register_mirror_command(app, ctx);
  register_bench_commands(app, ctx);
}

}  // namespace rustlog::cli
