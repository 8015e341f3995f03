// rustlog-load: end-to-end load generator for any broker that speaks the
// legacy v0 wire protocol (docs/PROTOCOL.md): Produce (0x01),
// Fetch (0x02), CreateTopic (0x05), DescribePartition (0x08).
//
// Frames are encoded by hand (the request bytes are built once and re-sent),
// so the client spends its time in send/recv, not in encoding. Responses
// are checked (type byte, counts) and an Error frame (0xFE) stops the run.
//
// Modes
//   produce   --connections C --partitions P --batch B --value-bytes V
//             (--records N | --seconds S) --pipeline D
//             connection i writes to partition i % P (and to i + C, i + 2C, ...
//             in turn when P > C); with D = 1 it waits for each answer before
//             sending the next request.
//   latency   single-record produce on one connection, one at a time;
//             reports p50/p90/p99/p999/max of the request round trip (µs).
//   fetch     --partition p --from O [--to E] --max-bytes M: drains [O, E)
//             (E defaults to the partition's high watermark) and reports rec/s;
//             --at O1,O2,... --repeat K: K fetches at each offset, per-fetch µs.
//   mixed     --producers N producers (partitions 1..N, --batch, waiting for
//             each answer) and, with --consumer 1, one consumer draining
//             partition 0 from offset 0 again and again (--max-bytes) for
//             --seconds; reports the producers' latency and the consumer's rate.
//
// Output: a human table, and one line per run starting with "RESULT " made
// of key=value pairs (for scripts).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "protocol/codec.h"

namespace {

using Clock = std::chrono::steady_clock;

[[noreturn]] void die(const std::string& msg) {
  std::fprintf(stderr, "rustlog-load: %s\n", msg.c_str());
  std::exit(1);
}

struct Opts {
  std::string mode = "produce";
  std::string host = "127.0.0.1";
  int port = 0;
  std::string topic = "load";
  bool create = true;
  int connections = 1;
  int partitions = 1;
  int partition = 0;
  int create_partitions = 0;  // 0: --partitions
  int batch = 100;
  int value_bytes = 100;
  uint64_t records = 0;
  double seconds = 0;
  int pipeline = 1;
  uint64_t warmup = 0;  // requests per connection not counted in latency figures
  uint64_t from = 0;
  uint64_t to = 0;  // 0 = high watermark
  uint32_t max_bytes = 1 << 20;
  std::vector<uint64_t> at;
  int repeat = 20;
  int producers = 1;
  int consumer = 1;
  std::string label;
};

void put16(std::string& s, uint16_t v) {
  v = htons(v);
  s.append(reinterpret_cast<const char*>(&v), 2);
}
void put32(std::string& s, uint32_t v) {
  v = htonl(v);
  s.append(reinterpret_cast<const char*>(&v), 4);
}
void put64(std::string& s, uint64_t v) {
  put32(s, static_cast<uint32_t>(v >> 32));
  put32(s, static_cast<uint32_t>(v));
}
uint16_t get16(const char* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return ntohs(v);
}
uint32_t get32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return ntohl(v);
}
uint64_t get64(const char* p) { return (uint64_t{get32(p)} << 32) | get32(p + 4); }

void put_str(std::string& s, std::string_view v) {
  put16(s, static_cast<uint16_t>(v.size()));
  s.append(v);
}

// Wraps a payload into a frame.
std::string frame(const std::string& payload) {
  std::string f;
  put32(f, static_cast<uint32_t>(payload.size()));
  return f + payload;
}

std::string produce_frame(const std::string& topic, uint32_t partition, int count, int value_bytes,
                          uint32_t seed) {
  std::string p;
  p.push_back(0x01);
  put_str(p, topic);
  put32(p, partition);
  put32(p, static_cast<uint32_t>(count));
  for (int i = 0; i < count; ++i) {
    put32(p, static_cast<uint32_t>(value_bytes));
    for (int k = 0; k < value_bytes; ++k) p.push_back(static_cast<char>('a' + (seed + i + k) % 26));
  }
  return frame(p);
}

std::string fetch_frame(const std::string& topic, uint32_t partition, uint64_t offset, uint32_t max_bytes) {
  std::string p;
  p.push_back(0x02);
  put_str(p, "");
  put_str(p, topic);
  put32(p, partition);
  put64(p, offset);
  put32(p, max_bytes);
  return frame(p);
}

// The hand-built frames must be byte-for-byte what the protocol codec encodes.
void check_against_codec(const std::string& topic) {
  namespace proto = rustlog::protocol;
  proto::ProduceRequest pr;
  pr.topic = topic;
  pr.partition = 3;
  const std::string mine = produce_frame(topic, 3, 2, 5, 0);
  for (int i = 0; i < 2; ++i) {
    std::string v;
    for (int k = 0; k < 5; ++k) v.push_back(static_cast<char>('a' + (i + k) % 26));
    pr.records.push_back(v);
  }
  std::string ref;
  if (!proto::encode_request(proto::Request(pr), ref) || ref != mine) die("produce frame differs from the codec's");
  proto::FetchRequest fr;
  fr.topic = topic;
  fr.partition = 1;
  fr.offset = 12345;
  fr.max_bytes = 1 << 20;
  ref.clear();
  if (!proto::encode_request(proto::Request(fr), ref) || ref != fetch_frame(topic, 1, 12345, 1 << 20))
    die("fetch frame differs from the codec's");
}

class Conn {
 public:
  Conn(const std::string& host, int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (fd_ < 0) die("socket failed");
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    if (::inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) die("bad host " + host + " (IPv4 only)");
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0)
      die("connect to " + host + ":" + std::to_string(port) + ": " + std::strerror(errno));
    int one = 1;
    ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    buf_.resize(1 << 20);
  }
  ~Conn() { ::close(fd_); }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  void send_all(std::string_view b) {
    while (!b.empty()) {
      ssize_t n = ::send(fd_, b.data(), b.size(), MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) die(std::string("send: ") + std::strerror(errno));
      b.remove_prefix(static_cast<size_t>(n));
    }
  }

  // The next response payload (type byte + fields); valid until the next call.
  std::string_view recv_frame() {
    if (start_ > 0 && start_ == end_) start_ = end_ = 0;
    while (true) {
      if (end_ - start_ >= 4) {
        const uint32_t len = get32(buf_.data() + start_);
        if (len == 0) die("broker sent a zero-length frame");
        if (end_ - start_ >= 4 + size_t{len}) {
          std::string_view v(buf_.data() + start_ + 4, len);
          start_ += 4 + len;
          return v;
        }
        if (4 + size_t{len} > buf_.size()) {
          // Grow (moving what is buffered to the front).
          std::string nb(4 + size_t{len} + (1 << 16), '\0');
          std::memcpy(nb.data(), buf_.data() + start_, end_ - start_);
          end_ -= start_;
          start_ = 0;
          buf_.swap(nb);
        }
      }
      if (end_ == buf_.size()) {
        std::memmove(buf_.data(), buf_.data() + start_, end_ - start_);
        end_ -= start_;
        start_ = 0;
      }
      ssize_t n = ::recv(fd_, buf_.data() + end_, buf_.size() - end_, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) die("broker closed the connection");
      if (n < 0) die(std::string("recv: ") + std::strerror(errno));
      end_ += static_cast<size_t>(n);
    }
  }

 private:
  int fd_ = -1;
  std::string buf_;
  size_t start_ = 0, end_ = 0;
};

[[noreturn]] void die_error_frame(std::string_view p, const char* what) {
  if (!p.empty() && static_cast<uint8_t>(p[0]) == 0xFE && p.size() >= 5) {
    const uint16_t code = get16(p.data() + 1);
    const uint16_t ml = get16(p.data() + 3);
    die(std::string(what) + ": broker error " + std::to_string(code) + ": " +
        std::string(p.substr(5, std::min<size_t>(ml, p.size() - 5))));
  }
  die(std::string(what) + ": unexpected response type " +
      std::to_string(p.empty() ? -1 : static_cast<uint8_t>(p[0])));
}

uint64_t high_watermark(Conn& c, const std::string& topic, uint32_t partition) {
  std::string p;
  p.push_back(0x08);
  put_str(p, topic);
  put32(p, partition);
  c.send_all(frame(p));
  auto r = c.recv_frame();
  if (r.empty() || r[0] != 0x08) die_error_frame(r, "describe partition");
  const uint16_t tl = get16(r.data() + 1);
  return get64(r.data() + 3 + tl + 4);
}

void create_topic(const Opts& o, int partitions) {
  Conn c(o.host, o.port);
  std::string p;
  p.push_back(0x05);
  put_str(p, o.topic);
  put32(p, static_cast<uint32_t>(partitions));
  c.send_all(frame(p));
  auto r = c.recv_frame();
  if (!r.empty() && r[0] == 0x05) return;
  if (!r.empty() && static_cast<uint8_t>(r[0]) == 0xFE && get16(r.data() + 1) == 409) return;  // exists
  die_error_frame(r, "create topic");
}

struct Stats {
  std::vector<uint32_t> lat_ns;  // per request
  uint64_t records = 0;
  uint64_t requests = 0;
  uint64_t bytes = 0;
};

double pct(std::vector<uint32_t>& v, double q) {
  if (v.empty()) return 0;
  size_t i = static_cast<size_t>(q * static_cast<double>(v.size() - 1) + 0.5);
  std::nth_element(v.begin(), v.begin() + static_cast<long>(i), v.end());
  return v[i] / 1000.0;
}

struct Percentiles {
  double p50 = 0, p90 = 0, p99 = 0, p999 = 0, max = 0, mean = 0;
};
Percentiles percentiles(std::vector<uint32_t> v) {
  Percentiles p;
  if (v.empty()) return p;
  double sum = 0;
  for (uint32_t x : v) sum += x;
  p.mean = sum / static_cast<double>(v.size()) / 1000.0;
  p.max = *std::max_element(v.begin(), v.end()) / 1000.0;
  p.p50 = pct(v, 0.50);
  p.p90 = pct(v, 0.90);
  p.p99 = pct(v, 0.99);
  p.p999 = pct(v, 0.999);
  return p;
}

uint32_t ns_since(Clock::time_point t) {
  auto d = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t).count();
  return static_cast<uint32_t>(std::min<int64_t>(d, UINT32_MAX));
}

// One producing connection: keeps `pipeline` requests in flight until it sent
// `quota` requests or the deadline passed.
// With several partitions the connection writes to them in turn, one request each.
void produce_worker(const Opts& o, std::vector<uint32_t> partitions, uint64_t quota, Clock::time_point deadline,
                    bool timed, int batch, std::atomic<bool>* stop, Stats* st) {
  Conn c(o.host, o.port);
  std::vector<std::string> reqs;
  for (uint32_t partition : partitions)
    reqs.push_back(produce_frame(o.topic, partition, batch, o.value_bytes, partition * 7919u));
  std::vector<Clock::time_point> sent(static_cast<size_t>(o.pipeline));
  uint64_t issued = 0, done = 0;
  const uint64_t total = quota + o.warmup;
  st->lat_ns.reserve(timed ? 1 << 20 : total);
  auto more = [&] {
    if (stop && stop->load(std::memory_order_relaxed)) return false;
    if (timed) return Clock::now() < deadline;
    return issued < total;
  };
  while (true) {
    while (issued - done < static_cast<uint64_t>(o.pipeline) && more()) {
      sent[issued % o.pipeline] = Clock::now();
      c.send_all(reqs[issued % reqs.size()]);
      ++issued;
    }
    if (done == issued) break;
    auto r = c.recv_frame();
    if (r.size() != 13 || r[0] != 0x01) die_error_frame(r, "produce");
    if (get32(r.data() + 9) != static_cast<uint32_t>(batch)) die("produce: wrong record count in answer");
    const uint32_t ns = ns_since(sent[done % o.pipeline]);
    if (done >= o.warmup) {
      st->lat_ns.push_back(ns);
      st->records += static_cast<uint64_t>(batch);
      st->requests += 1;
      st->bytes += static_cast<uint64_t>(batch) * static_cast<uint64_t>(o.value_bytes);
    }
    ++done;
  }
}

void print_result(const std::string& mode, const Opts& o, const std::vector<std::pair<std::string, std::string>>& kv) {
  std::printf("%-22s %s\n", "field", "value");
  for (const auto& [k, v] : kv) std::printf("%-22s %s\n", k.c_str(), v.c_str());
  std::printf("RESULT mode=%s", mode.c_str());
  if (!o.label.empty()) std::printf(" label=%s", o.label.c_str());
  for (const auto& [k, v] : kv) std::printf(" %s=%s", k.c_str(), v.c_str());
  std::printf("\n");
  std::fflush(stdout);
}

std::string fmt(double v, int prec = 1) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", prec, v);
  return b;
}

int run_produce(Opts o, bool latency_mode) {
  if (latency_mode) {
    o.batch = 1;
    o.connections = 1;
    o.pipeline = 1;
    if (o.records == 0 && o.seconds == 0) o.records = 2000;
  }
  if (o.records == 0 && o.seconds == 0) o.records = 1000000;
  if (o.create) create_topic(o, std::max(o.partitions, o.create_partitions));
  const bool timed = o.seconds > 0;
  const uint64_t reqs_total = timed ? 0 : (o.records + o.batch - 1) / o.batch;
  std::vector<Stats> stats(static_cast<size_t>(o.connections));
  std::vector<std::thread> th;
  const auto t0 = Clock::now();
  const auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  for (int i = 0; i < o.connections; ++i) {
    const uint64_t quota = reqs_total / o.connections + (static_cast<uint64_t>(i) < reqs_total % o.connections ? 1 : 0);
    // Connection i writes to partition i % P, and to i + C, i + 2C, ... in turn when P > C.
    std::vector<uint32_t> parts;
    for (int p = i % o.partitions; p < o.partitions; p += o.connections) parts.push_back(static_cast<uint32_t>(p));
    th.emplace_back(produce_worker, std::cref(o), parts, quota, deadline, timed, o.batch, nullptr, &stats[i]);
  }
  for (auto& t : th) t.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  Stats all;
  for (auto& s : stats) {
    all.records += s.records;
    all.requests += s.requests;
    all.bytes += s.bytes;
    all.lat_ns.insert(all.lat_ns.end(), s.lat_ns.begin(), s.lat_ns.end());
  }
  const Percentiles p = percentiles(all.lat_ns);
  print_result(latency_mode ? "latency" : "produce", o,
               {{"connections", std::to_string(o.connections)},
                {"partitions", std::to_string(o.partitions)},
                {"batch", std::to_string(o.batch)},
                {"value_bytes", std::to_string(o.value_bytes)},
                {"pipeline", std::to_string(o.pipeline)},
                {"records", std::to_string(all.records)},
                {"requests", std::to_string(all.requests)},
                {"seconds", fmt(secs, 3)},
                {"rec_per_s", fmt(static_cast<double>(all.records) / secs, 0)},
                {"mib_per_s", fmt(static_cast<double>(all.bytes) / secs / (1 << 20), 1)},
                {"p50_us", fmt(p.p50)},
                {"p90_us", fmt(p.p90)},
                {"p99_us", fmt(p.p99)},
                {"p999_us", fmt(p.p999)},
                {"max_us", fmt(p.max)},
                {"mean_us", fmt(p.mean)}});
  return 0;
}

struct FetchOut {
  uint32_t count = 0;
  uint64_t next = 0;
  uint64_t value_bytes = 0;
};

FetchOut parse_fetch(std::string_view r) {
  if (r.size() < 13 || r[0] != 0x02) die_error_frame(r, "fetch");
  FetchOut f;
  f.count = get32(r.data() + 1);
  size_t pos = 5;
  for (uint32_t i = 0; i < f.count; ++i) {
    if (pos + 4 > r.size()) die("fetch: truncated response");
    const uint32_t l = get32(r.data() + pos);
    pos += 4 + l;
    f.value_bytes += l;
  }
  if (pos + 8 != r.size()) die("fetch: malformed response");
  f.next = get64(r.data() + pos);
  return f;
}

int run_fetch(const Opts& o) {
  Conn c(o.host, o.port);
  const uint64_t hw = high_watermark(c, o.topic, static_cast<uint32_t>(o.partition));
  if (!o.at.empty()) {
    for (uint64_t off : o.at) {
      const std::string req = fetch_frame(o.topic, static_cast<uint32_t>(o.partition), off, o.max_bytes);
      std::vector<uint32_t> lat;
      uint64_t recs = 0;
      for (int i = 0; i < o.repeat + 2; ++i) {  // 2 warm-up fetches
        const auto t = Clock::now();
        c.send_all(req);
        const FetchOut f = parse_fetch(c.recv_frame());
        const uint32_t ns = ns_since(t);
        if (i >= 2) {
          lat.push_back(ns);
          recs = f.count;
        }
      }
      const Percentiles p = percentiles(lat);
      print_result("fetch_at", o,
                   {{"partition", std::to_string(o.partition)},
                    {"offset", std::to_string(off)},
                    {"max_bytes", std::to_string(o.max_bytes)},
                    {"fetches", std::to_string(lat.size())},
                    {"records_per_fetch", std::to_string(recs)},
                    {"p50_us", fmt(p.p50)},
                    {"p99_us", fmt(p.p99)},
                    {"max_us", fmt(p.max)},
                    {"rec_per_s", fmt(p.p50 > 0 ? recs / (p.p50 / 1e6) : 0, 0)}});
    }
    return 0;
  }
  const uint64_t end = o.to ? std::min(o.to, hw) : hw;
  uint64_t off = o.from, records = 0, bytes = 0;
  std::vector<uint32_t> lat;
  const auto t0 = Clock::now();
  while (off < end) {
    const auto t = Clock::now();
    c.send_all(fetch_frame(o.topic, static_cast<uint32_t>(o.partition), off, o.max_bytes));
    const FetchOut f = parse_fetch(c.recv_frame());
    lat.push_back(ns_since(t));
    if (f.count == 0 || f.next <= off) die("fetch: no progress at offset " + std::to_string(off));
    records += f.count;
    bytes += f.value_bytes;
    off = f.next;
  }
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  const Percentiles p = percentiles(lat);
  print_result("fetch", o,
               {{"partition", std::to_string(o.partition)},
                {"from", std::to_string(o.from)},
                {"to", std::to_string(end)},
                {"max_bytes", std::to_string(o.max_bytes)},
                {"records", std::to_string(records)},
                {"fetches", std::to_string(lat.size())},
                {"seconds", fmt(secs, 3)},
                {"rec_per_s", fmt(records / secs, 0)},
                {"mib_per_s", fmt(bytes / secs / (1 << 20), 1)},
                {"p50_us", fmt(p.p50)},
                {"p99_us", fmt(p.p99)},
                {"max_us", fmt(p.max)}});
  return 0;
}

int run_mixed(Opts o) {
  if (o.seconds <= 0) o.seconds = 10;
  if (o.create) create_topic(o, o.producers + 1);
  std::atomic<bool> stop{false};
  uint64_t consumed = 0, fetches = 0, passes = 0;
  std::vector<uint32_t> fetch_lat;
  std::vector<Stats> stats(static_cast<size_t>(o.producers));
  std::vector<std::thread> th;
  const auto t0 = Clock::now();
  const auto deadline = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.seconds));
  for (int i = 0; i < o.producers; ++i)
    th.emplace_back(produce_worker, std::cref(o), std::vector<uint32_t>{static_cast<uint32_t>(i + 1)}, 0, deadline,
                    true, o.batch, &stop, &stats[i]);
  if (o.consumer) {
    th.emplace_back([&] {
      Conn c(o.host, o.port);
      const uint64_t hw = high_watermark(c, o.topic, 0);
      if (hw == 0) die("mixed: partition 0 is empty; fill it first (produce --partitions 1)");
      uint64_t off = 0;
      while (Clock::now() < deadline) {
        const auto t = Clock::now();
        c.send_all(fetch_frame(o.topic, 0, off, o.max_bytes));
        const FetchOut f = parse_fetch(c.recv_frame());
        fetch_lat.push_back(ns_since(t));
        ++fetches;
        consumed += f.count;
        off = f.next;
        if (f.count == 0 || off >= hw) {
          off = 0;
          ++passes;
        }
      }
    });
  }
  for (auto& t : th) t.join();
  const double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  Stats all;
  for (auto& s : stats) {
    all.records += s.records;
    all.requests += s.requests;
    all.lat_ns.insert(all.lat_ns.end(), s.lat_ns.begin(), s.lat_ns.end());
  }
  const Percentiles p = percentiles(all.lat_ns);
  const Percentiles fp = percentiles(fetch_lat);
  print_result("mixed", o,
               {{"producers", std::to_string(o.producers)},
                {"consumer", std::to_string(o.consumer)},
                {"batch", std::to_string(o.batch)},
                {"value_bytes", std::to_string(o.value_bytes)},
                {"max_bytes", std::to_string(o.max_bytes)},
                {"seconds", fmt(secs, 3)},
                {"produce_rec_per_s", fmt(all.records / secs, 0)},
                {"produce_requests", std::to_string(all.requests)},
                {"p50_us", fmt(p.p50)},
                {"p90_us", fmt(p.p90)},
                {"p99_us", fmt(p.p99)},
                {"p999_us", fmt(p.p999)},
                {"max_us", fmt(p.max)},
                {"consume_rec_per_s", fmt(consumed / secs, 0)},
                {"fetches", std::to_string(fetches)},
                {"fetch_p50_us", fmt(fp.p50)},
                {"fetch_p99_us", fmt(fp.p99)}});
  return 0;
}

void usage() {
  std::printf(
      "usage: rustlog-load MODE --port P [options]\n"
      "  MODE: produce | latency | fetch | mixed\n"
      "  common:  --host 127.0.0.1  --port P  --topic load  --no-create  --label TEXT\n"
      "           --create-partitions N (topic size when created; default --partitions)\n"
      "  produce: --connections 1 --partitions 1 --batch 100 --value-bytes 100\n"
      "           (--records N | --seconds S) --pipeline 1 --warmup 0\n"
      "  latency: --records 2000 | --seconds S, --value-bytes, --warmup (single-record produce)\n"
      "  fetch:   --partition 0 --from 0 [--to E] --max-bytes 1048576\n"
      "           [--at O1,O2,... --repeat 20]\n"
      "  mixed:   --producers 1 --consumer 1|0 --batch 100 --seconds 10 --max-bytes 1048576\n"
      "Prints a table and one 'RESULT key=value ...' line per run.\n");
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2 || std::string(argv[1]) == "-h" || std::string(argv[1]) == "--help") {
    usage();
    return argc < 2 ? 2 : 0;
  }
  Opts o;
  o.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    const std::string a = argv[i];
    auto val = [&]() -> std::string {
      if (i + 1 >= argc) die("missing value for " + a);
      return argv[++i];
    };
    auto num = [&]() -> uint64_t { return std::strtoull(val().c_str(), nullptr, 10); };
    if (a == "--host") o.host = val();
    else if (a == "--port") o.port = static_cast<int>(num());
    else if (a == "--topic") o.topic = val();
    else if (a == "--no-create") o.create = false;
    else if (a == "--label") o.label = val();
    else if (a == "--connections") o.connections = static_cast<int>(num());
    else if (a == "--partitions") o.partitions = static_cast<int>(num());
    else if (a == "--create-partitions") o.create_partitions = static_cast<int>(num());
    else if (a == "--partition") o.partition = static_cast<int>(num());
    else if (a == "--batch") o.batch = static_cast<int>(num());
    else if (a == "--value-bytes") o.value_bytes = static_cast<int>(num());
    else if (a == "--records") o.records = num();
    else if (a == "--seconds") o.seconds = std::atof(val().c_str());
    else if (a == "--pipeline") o.pipeline = static_cast<int>(num());
    else if (a == "--warmup") o.warmup = num();
    else if (a == "--from") o.from = num();
    else if (a == "--to") o.to = num();
    else if (a == "--max-bytes") o.max_bytes = static_cast<uint32_t>(num());
    else if (a == "--repeat") o.repeat = static_cast<int>(num());
    else if (a == "--producers") o.producers = static_cast<int>(num());
    else if (a == "--consumer") o.consumer = static_cast<int>(num());
    else if (a == "--at") {
      std::string s = val();
      size_t p = 0;
      while (p <= s.size()) {
        size_t q = s.find(',', p);
        if (q == std::string::npos) q = s.size();
        if (q > p) o.at.push_back(std::strtoull(s.substr(p, q - p).c_str(), nullptr, 10));
        p = q + 1;
      }
    } else die("unknown option " + a + " (see --help)");
  }
  if (o.port <= 0) die("--port is required");
  if (o.connections < 1 || o.partitions < 1 || o.batch < 1 || o.pipeline < 1 || o.value_bytes < 0)
    die("--connections, --partitions, --batch and --pipeline must be >= 1");
  check_against_codec(o.topic);
  if (o.mode == "produce") return run_produce(o, false);
  if (o.mode == "latency") return run_produce(o, true);
  if (o.mode == "fetch") return run_fetch(o);
  if (o.mode == "mixed") return run_mixed(o);
  die("unknown mode " + o.mode);
}
