// metrics: fetches the broker's metrics over its protocol, parses the
// Prometheus text and prints a few of them: requests by type, open
// connections, partitions' high watermarks and consumer lag.
//
//   build/release/examples/metrics [--broker HOST:PORT]
#include <cstdio>
#include <string>

#include "client/client.h"
#include "client/metrics_text.h"
#include "example_args.h"

using namespace rustlog;

int main(int argc, char** argv) {
  example::Args args(argc, argv, {}, "usage: metrics [--broker HOST:PORT]\n");
  auto c = client::Client::connect(args.get("broker"));
  if (!c) return example::fail(c.error());
  auto text = c->metrics_text();
  if (!text) return example::fail(text.error());
  auto families = client::parse_prometheus_text(*text);
  if (!families) return example::fail(families.error());

  std::printf("%zu metric families from %s\n", families->size(), c->broker().c_str());
  for (const auto& f : *families) {
    if (f.name == "rustlog_requests_total") {
      std::printf("requests by type:\n");
      for (const auto& s : f.samples)
        if (s.value > 0) std::printf("  %-20s %.0f\n", s.label("type").value_or("?").c_str(), s.value);
    } else if (f.name == "rustlog_connections_open") {
      for (const auto& s : f.samples) std::printf("open connections: %.0f\n", s.value);
    } else if (f.name == "rustlog_partition_high_watermark") {
      std::printf("high watermarks:\n");
      for (const auto& s : f.samples)
        std::printf("  %s/%s: %.0f\n", s.label("topic").value_or("?").c_str(),
                    s.label("partition").value_or("?").c_str(), s.value);
    } else if (f.name == "rustlog_consumer_lag") {
      std::printf("consumer lag:\n");
      for (const auto& s : f.samples)
        std::printf("  %s on %s/%s: %.0f\n", s.label("group").value_or("?").c_str(),
                    s.label("topic").value_or("?").c_str(), s.label("partition").value_or("?").c_str(), s.value);
    } else if (f.type == "histogram" && f.name == "rustlog_request_duration_seconds") {
      std::printf("request latency:\n");
      for (const auto& h : client::summarize_histogram(f)) {
        auto p99 = h.quantile(0.99);
        if (h.count > 0 && p99)
          std::printf("  %s: %.0f requests, p99 %.3f ms\n", h.labels.empty() ? "" : h.labels[0].second.c_str(),
                      h.count, *p99 * 1000);
      }
    }
  }
  return 0;
}
