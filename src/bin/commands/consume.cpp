// `rustlog consume`: print a topic's records, one per line.
#include <signal.h>

#include <atomic>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "bin/commands/commands.h"
#include "bin/commands/net_common.h"
#include "client/consumer.h"
#include "common/clock.h"

namespace rustlog::cli {
namespace {

struct ConsumeArgs {
  NetArgs net;
  std::string topic;
  std::optional<uint32_t> partition;
  std::string group;
  bool from_beginning = false;
  std::optional<uint64_t> offset;
  std::string from_time;
  std::optional<uint64_t> count;
  bool follow = false;
  std::string format = "value";
  std::string key_separator = "\t";
};

std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop.store(true); }

void install_stop_handlers() {
  struct sigaction sa{};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = 0;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

// "2024-05-01T12:00:00Z" (optionally with .fff and/or without the Z; UTC),
// "1714564800000" (ms since the epoch), or "30s" / "10m" / "2h" / "1d" ago.
std::optional<int64_t> parse_time_us(const std::string& s, std::string* why) {
  if (s.empty()) {
    *why = "empty";
    return std::nullopt;
  }
  const int64_t now_us = wall_us();
  // Duration ago.
  std::string d = s;
  if (d.front() == '-') d.erase(0, 1);
  if (!d.empty() && std::isalpha(static_cast<unsigned char>(d.back())) && d.size() >= 2) {
    int64_t n = 0;
    auto [p, ec] = std::from_chars(d.data(), d.data() + d.size() - 1, n);
    if (ec == std::errc() && p == d.data() + d.size() - 1 && n >= 0) {
      int64_t unit = 0;
      switch (d.back()) {
        case 's': unit = 1'000'000; break;
        case 'm': unit = 60'000'000; break;
        case 'h': unit = 3'600'000'000; break;
        case 'd': unit = 86'400'000'000; break;
        default: break;
      }
      if (unit > 0) return std::max<int64_t>(0, now_us - n * unit);
    }
  }
  // Milliseconds since the epoch.
  {
    int64_t ms = 0;
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), ms);
    if (ec == std::errc() && p == s.data() + s.size() && ms >= 0) return ms * 1000;
  }
  // ISO 8601, UTC.
  std::tm tm{};
  int msec = 0;
  int y, mo, da, h = 0, mi = 0, se = 0;
  char tail[16] = {0};
  const int n = std::sscanf(s.c_str(), "%d-%d-%d%*[T ]%d:%d:%d%15s", &y, &mo, &da, &h, &mi, &se, tail);
  if (n >= 3) {
    std::string t = n == 7 ? tail : "";
    if (!t.empty() && t.front() == '.') {
      size_t i = 1;
      int digits = 0;
      while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) {
        if (digits < 3) msec = msec * 10 + (t[i] - '0');
        ++digits;
        ++i;
      }
      for (int k = digits; k < 3; ++k) msec *= 10;
      t = t.substr(i);
    }
    if ((t.empty() || t == "Z") && (n == 3 || n >= 6)) {
      tm.tm_year = y - 1900;
      tm.tm_mon = mo - 1;
      tm.tm_mday = da;
      tm.tm_hour = h;
      tm.tm_min = mi;
      tm.tm_sec = se;
      const time_t secs = ::timegm(&tm);
      return static_cast<int64_t>(secs) * 1'000'000 + msec * 1000;
    }
  }
  *why = "expected an ISO 8601 UTC time (2024-05-01T12:00:00Z), milliseconds since the epoch, or a "
         "duration ago (30s, 10m, 2h, 1d)";
  return std::nullopt;
}

nlohmann::json nullable(const std::optional<std::string>& s) {
  if (!s) return nullptr;
  return *s;
}

std::string format_record(const ConsumeArgs& a, const client::ConsumerRecord& r) {
  if (a.format == "value") return r.value.value_or("");
  if (a.format == "kv") return r.key.value_or("") + a.key_separator + r.value.value_or("");
  nlohmann::json headers = nlohmann::json::array();
  for (const auto& h : r.headers) headers.push_back({{"name", h.name}, {"value", h.value}});
  nlohmann::json j = {{"topic", r.topic},   {"partition", r.partition},         {"offset", r.offset},
                      {"timestamp", iso_time(r.timestamp_us)}, {"timestamp_us", r.timestamp_us},
                      {"key", nullable(r.key)}, {"value", nullable(r.value)}, {"headers", headers}};
  return json_text(j);
}

int run_consume(const ConsumeArgs& a) {
  std::optional<int64_t> from_time;
  if (!a.from_time.empty()) {
    std::string why;
    from_time = parse_time_us(a.from_time, &why);
    if (!from_time) return fail("consume: bad --from-time '" + a.from_time + "': " + why);
  }
  auto c = connect_or_report("consume", a.net);
  if (!c) return 1;
  auto n = c->partition_count(a.topic);
  if (!n) return fail_client("consume", n.error());
  if (a.partition && *a.partition >= *n)
    return fail("consume: partition " + std::to_string(*a.partition) + " does not exist: topic " + a.topic +
                " has " + std::to_string(*n) + (*n == 1 ? " partition" : " partitions"));

  client::ConsumerOptions o;
  o.group_id = a.group;
  o.auto_offset_reset = client::OffsetReset::kEarliest;
  o.max_poll_records = 500;
  o.max_wait = std::chrono::milliseconds(500);
  client::Consumer consumer(std::move(*c), o);
  std::vector<uint32_t> parts;
  if (a.partition) parts.push_back(*a.partition);
  else
    for (uint32_t i = 0; i < *n; ++i) parts.push_back(i);
  if (auto st = consumer.assign(a.topic, parts); !st) return fail_client("consume", st.error());

  client::Client& cl = consumer.client();
  if (a.from_beginning) {
    if (auto st = consumer.seek_to_beginning(); !st) return fail_client("consume", st.error());
  } else if (a.offset) {
    for (uint32_t p : parts) {
      auto lo = cl.earliest_offset(a.topic, p);
      if (!lo) return fail_client("consume", lo.error());
      auto hi = cl.latest_offset(a.topic, p);
      if (!hi) return fail_client("consume", hi.error());
      if (*a.offset < *lo || *a.offset > *hi)
        return fail("consume: offset " + std::to_string(*a.offset) + " is out of range for " + a.topic + "/" +
                    std::to_string(p) + ": valid offsets are " + std::to_string(*lo) + ".." + std::to_string(*hi));
      if (auto st = consumer.seek(p, *a.offset); !st) return fail_client("consume", st.error());
    }
  } else if (from_time) {
    if (auto st = consumer.seek_to_time(*from_time); !st) return fail_client("consume", st.error());
  }
  if (auto st = consumer.resolve_positions(); !st) return fail_client("consume", st.error());

  // Without --follow, read up to the end of each partition as it is now.
  std::map<uint32_t, uint64_t> end;
  if (!a.follow) {
    for (uint32_t p : parts) {
      auto hi = cl.latest_offset(a.topic, p);
      if (!hi) return fail_client("consume", hi.error());
      end[p] = *hi;
    }
  }
  auto reached_end = [&] {
    for (uint32_t p : parts) {
      auto pos = consumer.position(p);
      if (!pos || *pos < end[p]) return false;
    }
    return true;
  };
  if (a.follow) install_stop_handlers();

  uint64_t printed = 0;
  auto commit = [&]() -> bool {
    if (a.group.empty()) return true;
    if (auto st = consumer.commit(); !st) {
      fail_client("consume", st.error());
      return false;
    }
    return true;
  };
  while (!g_stop.load()) {
    if (a.count && printed >= *a.count) break;
    if (!a.follow && reached_end()) break;
    size_t max = 500;
    if (a.count) max = static_cast<size_t>(std::min<uint64_t>(max, *a.count - printed));
    auto recs = consumer.poll(std::chrono::milliseconds(1000), max);
    if (!recs) return fail_client("consume", recs.error());
    if (recs->empty()) continue;
    std::string buf;
    for (const auto& r : *recs) {
      buf += format_record(a, r);
      buf += '\n';
    }
    out(buf);
    // Commit only what has reached stdout: a crash repeats at most this batch.
    if (std::fflush(stdout) != 0 || std::ferror(stdout)) return fail("consume: cannot write to stdout");
    printed += recs->size();
    if (!commit()) return 1;
  }
  if (!commit()) return 1;
  return 0;
}

}  // namespace

void register_consume_command(CLI::App& app, Context& ctx) {
  auto a = std::make_shared<ConsumeArgs>();
  CLI::App* cmd = app.add_subcommand("consume", "Print a topic's records, one per line");
  cmd->group(kBrokerGroup);
  cmd->add_option("TOPIC", a->topic, "Topic to read")->required();
  cmd->add_option("--partition,-p", a->partition, "Read only this partition (default: all of them)");
  cmd->add_option("--group,-g", a->group,
                  "Consumer group: start at its committed offset (earliest when it has none) and commit "
                  "after every batch printed");
  auto* fb = cmd->add_flag("--from-beginning", a->from_beginning, "Start at the log start offset");
  auto* off = cmd->add_option("--offset", a->offset, "Start at this offset (in every partition read)");
  auto* ft = cmd->add_option("--from-time", a->from_time,
                             "Start at the first record at or after T: 2024-05-01T12:00:00Z (UTC), ms since "
                             "the epoch, or 30s/10m/2h/1d ago")
                 ->type_name("T");
  fb->excludes(off)->excludes(ft);
  off->excludes(ft);
  cmd->add_option("--count,-n", a->count, "Stop after N records")->type_name("N");
  cmd->add_flag("--follow,-f", a->follow,
                "Keep waiting for new records (long-poll) instead of stopping at the end; Ctrl-C stops");
  cmd->add_option("--format", a->format, "value: the value only; kv: key<separator>value; json: one object per line")
      ->check(CLI::IsMember({"value", "kv", "json"}))
      ->default_val("value");
  cmd->add_option("--key-separator", a->key_separator, "Separator between key and value for --format kv (default: tab)")
      ->type_name("S");
  add_net_options(cmd, a->net, /*with_json=*/false);
  cmd->footer(
      "Where it starts: --from-beginning, --offset or --from-time when given; else, with --group,\n"
      "the group's committed offset (the earliest offset when the group has none); else the\n"
      "earliest offset. Without --follow it stops at the end of the log as it was when it started\n"
      "(or after --count records); with --follow it waits for more. With --group it commits after\n"
      "each batch it has written to stdout, so a killed consumer restarted with the same group\n"
      "resumes where it left off: nothing is lost, and at most the last batch (500 records) repeats.\n"
      "A null key or value prints as an empty string (--format json shows null).\n"
      "\n"
      "Examples:\n"
      "  rustlog consume orders --from-beginning\n"
      "  rustlog consume orders --group billing --count 100\n"
      "  rustlog consume orders --partition 2 --offset 1500 --format json\n"
      "  rustlog consume orders --from-time 10m --follow --format kv");
  cmd->callback([&ctx, a] { ctx.exit_code = run_consume(*a); });
}

}  // namespace rustlog::cli
