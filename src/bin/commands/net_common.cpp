#include "bin/commands/net_common.h"

#include <cstdio>
#include <ctime>

#include "bin/commands/commands.h"

namespace rustlog::cli {

void add_net_options(CLI::App* cmd, NetArgs& args, bool with_json) {
  cmd->add_option("--broker", args.broker, "Broker address HOST:PORT (environment: RUSTLOG_BROKER)")
      ->envname(std::string(client::kBrokerEnvVar))
      ->default_val(std::string(client::kDefaultBroker))
      ->type_name("HOST:PORT");
  if (with_json) cmd->add_flag("--json", args.json, "Print JSON instead of a table (for scripts)");
}

namespace {
std::string one_line(std::string s) {
  for (char& c : s)
    if (c == '\n' || c == '\r') c = ' ';
  return s;
}
}  // namespace

int fail_client(const std::string& command, const client::ClientError& error) {
  // Every failure names its code: the broker's (404 TopicNotFound, ...), a
  // transport failure's (520 Transport) or the client's (422 InvalidConfig).
  std::string msg = error.message();
  msg += " (" + std::to_string(error.code_number()) + " " + error_code_name(error.code()) + ")";
  return fail(one_line(command + ": " + msg));
}

std::optional<client::Client> connect_or_report(const std::string& command, const NetArgs& args) {
  client::ClientOptions o;
  o.client_id = "rustlog-cli/0.1.0";
  // An empty --broker (e.g. RUSTLOG_BROKER set but empty) means the default.
  auto c = client::Client::connect(args.broker.empty() ? std::string(client::kDefaultBroker) : args.broker, o);
  if (!c) {
    fail_client(command, c.error());
    return std::nullopt;
  }
  return std::move(*c);
}

std::string json_text(const nlohmann::json& j, int indent) {
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

void print_json(const nlohmann::json& j) { out_line(json_text(j, 2)); }

void out(const std::string& s) { std::fwrite(s.data(), 1, s.size(), stdout); }
void out_line(const std::string& s) {
  out(s);
  std::fputc('\n', stdout);
}

Table::Table(std::vector<std::string> headers, std::vector<bool> right)
    : headers_(std::move(headers)), right_(std::move(right)) {
  right_.resize(headers_.size(), false);
}

void Table::add(std::vector<std::string> row) {
  row.resize(headers_.size());
  rows_.push_back(std::move(row));
}

std::string Table::render() const {
  std::vector<size_t> w(headers_.size());
  for (size_t i = 0; i < headers_.size(); ++i) w[i] = headers_[i].size();
  for (const auto& r : rows_)
    for (size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], r[i].size());
  std::string s;
  auto line = [&](const std::vector<std::string>& r) {
    std::string l;
    for (size_t i = 0; i < r.size(); ++i) {
      const size_t pad = w[i] - r[i].size();
      const bool last = i + 1 == r.size();
      if (right_[i]) l += std::string(pad, ' ') + r[i];
      else l += r[i] + (last ? "" : std::string(pad, ' '));
      if (!last) l += "  ";
    }
    while (!l.empty() && l.back() == ' ') l.pop_back();
    s += l + "\n";
  };
  line(headers_);
  for (const auto& r : rows_) line(r);
  return s;
}

bool split_pair(const std::string& text, std::string* name, std::string* value) {
  const size_t eq = text.find('=');
  if (eq == std::string::npos || eq == 0) return false;
  *name = text.substr(0, eq);
  *value = text.substr(eq + 1);
  return true;
}

std::string human_bytes(uint64_t bytes) {
  static const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[32];
  if (u == 0) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  else std::snprintf(buf, sizeof buf, "%.1f %s", v, kUnits[u]);
  return buf;
}

std::string iso_time(int64_t timestamp_us) {
  int64_t secs = timestamp_us / 1'000'000;
  int64_t rem = timestamp_us % 1'000'000;
  if (rem < 0) {
    rem += 1'000'000;
    --secs;
  }
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(rem / 1000));
  return buf;
}

}  // namespace rustlog::cli
