// nats-load: the NATS JetStream side of bench/compare_peers.sh, through the
// NATS C client (Debian libnats-dev), so no side is measured through an
// interpreter. It creates a file-storage stream on one subject, publishes
// --records values of --value-bytes with at most --depth publishes awaiting
// their acknowledgement (js_PublishAsync with PublishAsync.MaxPending), waits
// for every acknowledgement, and prints one line:
//   RESULT records=N seconds=S records_per_sec=R errors=E
// Usage: nats-load --url nats://127.0.0.1:PORT [--records N] [--value-bytes V] [--depth D]
#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace {

std::atomic<uint64_t> g_errors{0};

void on_error(jsCtx*, jsPubAckErr* pae, void*) {
  if (g_errors.fetch_add(1) == 0) std::fprintf(stderr, "nats-load: publish failed: %s\n", natsStatus_GetText(pae->Err));
}

int usage(const char* why) {
  std::fprintf(stderr, "nats-load: %s\nusage: nats-load --url URL [--records N] [--value-bytes V] [--depth D]\n", why);
  return 2;
}

int check(natsStatus s, const char* what) {
  if (s == NATS_OK) return 0;
  std::fprintf(stderr, "nats-load: %s: %s\n", what, natsStatus_GetText(s));
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string url;
  uint64_t records = 1000000;
  int value_bytes = 100;
  int64_t depth = 100;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 >= argc) return usage(("missing a value after " + a).c_str());
    const char* v = argv[++i];
    if (a == "--url") url = v;
    else if (a == "--records") records = std::strtoull(v, nullptr, 10);
    else if (a == "--value-bytes") value_bytes = std::atoi(v);
    else if (a == "--depth") depth = std::atoll(v);
    else return usage(("unknown option " + a).c_str());
  }
  if (url.empty() || records == 0 || value_bytes < 1 || depth < 1) return usage("bad arguments");

  natsConnection* nc = nullptr;
  jsCtx* js = nullptr;
  if (check(natsConnection_ConnectTo(&nc, url.c_str()), "connect")) return 1;
  jsOptions o;
  jsOptions_Init(&o);
  o.PublishAsync.MaxPending = depth;
  o.PublishAsync.StallWait = 60000;  // block (not fail) while `depth` publishes await their ack
  o.PublishAsync.ErrHandler = on_error;
  if (check(natsConnection_JetStream(&js, nc, &o), "jetstream context")) return 1;

  jsStreamConfig sc;
  jsStreamConfig_Init(&sc);
  sc.Name = "BENCH";
  const char* subjects[] = {"bench"};
  sc.Subjects = subjects;
  sc.SubjectsLen = 1;
  sc.Storage = js_FileStorage;
  jsErrCode jerr = static_cast<jsErrCode>(0);
  jsStreamInfo* si = nullptr;
  if (check(js_AddStream(&si, js, &sc, nullptr, &jerr), "add stream")) return 1;
  jsStreamInfo_Destroy(si);

  std::string value(static_cast<size_t>(value_bytes), 'x');
  const auto t0 = std::chrono::steady_clock::now();
  for (uint64_t n = 0; n < records; ++n)
    if (check(js_PublishAsync(js, "bench", value.data(), value_bytes, nullptr), "publish")) return 1;
  jsPubOptions po;
  jsPubOptions_Init(&po);
  po.MaxWait = 120000;
  if (check(js_PublishAsyncComplete(js, &po), "waiting for acknowledgements")) return 1;
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("RESULT records=%llu seconds=%.6f records_per_sec=%.0f errors=%llu\n",
              static_cast<unsigned long long>(records), secs, static_cast<double>(records) / secs,
              static_cast<unsigned long long>(g_errors.load()));
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  nats_Close();
  return g_errors.load() == 0 ? 0 : 1;
}
