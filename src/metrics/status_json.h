#pragma once
// GET /api/status: the broker at a glance as one JSON document, for the
// status page (status_page.html, which polls it) and `rustlog top`.
//
// Like render(), it reads only BrokerMetrics' atomics and the snapshot the
// event loop published last (partitions, groups, recent rates and fsync
// latency), so it runs on the HTTP thread without touching broker state.
// The document's fields are listed in docs/OPERATIONS.md ("Status page");
// numbers are plain JSON numbers, latencies in milliseconds, rates per
// second over the snapshot's trailing window.
#include <cstdint>
#include <string>

#include "metrics/broker_metrics.h"

namespace rustlog {

// What the process knows about itself at start, shown as it is (the
// version comes from the build).
struct BrokerIdentity {
  std::string listen;    // the bound client address, "127.0.0.1:9092"
  std::string data_dir;
  std::string flush;     // the flush policy as configured ("always", "interval:50")
  int64_t pid = 0;
};

// The document as of now_unix_ms (uptime and the snapshot's age count to it).
std::string render_status_json(const BrokerMetrics& m, const BrokerIdentity& id, int64_t now_unix_ms);

}  // namespace rustlog
