// `rustlog top` in a real pseudo-terminal (tmux), against a real kafka-lite:
//  - the screen follows produced records and a group's commits, redrawn in
//    place (one header, nothing scrolled), the lag highlighted while it grows;
//  - q and Ctrl-C quit with status 0 and give the terminal back as it was
//    (main screen, cooked mode);
//  - a broker that goes away is reported on screen, the last numbers kept;
//  - a read-only partition is shown in red and marked READ-ONLY;
//  - --once prints plain text without a terminal; errors say what to do.
#include <gtest/gtest.h>

#include <httplib.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/broker_calls.h"
#include "support/broker_process.h"
#include "support/metrics_helpers.h"
#include "support/tmux_session.h"

namespace rustlog::test {
namespace {

using namespace protocol;
using namespace std::chrono_literals;

std::string rustlog_path() { return std::string(RUSTLOG_BIN_DIR) + "/rustlog"; }

std::vector<std::string> words(const std::string& line) {
  std::istringstream in(line);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

// The words of the first screen line that starts with `prefix` words.
std::vector<std::string> row(const std::string& screen, const std::vector<std::string>& prefix) {
  std::istringstream in(screen);
  for (std::string line; std::getline(in, line);) {
    auto w = words(line);
    if (w.size() >= prefix.size() && std::equal(prefix.begin(), prefix.end(), w.begin())) return w;
  }
  return {};
}

size_t count_lines_starting(const std::string& screen, const std::string& start) {
  std::istringstream in(screen);
  size_t n = 0;
  for (std::string line; std::getline(in, line);) n += line.rfind(start, 0) == 0;
  return n;
}

class RustlogTopTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(start_with_metrics(broker_, {"--flush", "always"}, &mport_));
    conn_.emplace(broker_.connect());
  }
  std::string metrics_address() const { return "127.0.0.1:" + std::to_string(mport_); }
  // top in tmux; after it exits the shell prints its status and the
  // terminal's canonical/echo modes ("modes: icanon echo" when restored),
  // then waits.
  ::testing::AssertionResult start_top() {
    return tmux_.start(rustlog_path() + " top --metrics-address " + metrics_address() +
                           " --interval 0.3; echo \"top exited with $?\"; "
                           "echo \"modes: $(stty -a | tr ' ;' '\\n\\n' | grep -x -e icanon -e -icanon -e echo -e -echo "
                           "| tr '\\n' ' ')\"; sleep 600",
                       150, 40);
  }
  // Polls the screen until pred holds; the last screen either way.
  std::string screen_until(const std::function<bool(const std::string&)>& pred, std::chrono::seconds timeout = 30s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    std::string s = tmux_.screen();
    while (!pred(s) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(100ms);
      s = tmux_.screen();
    }
    return s;
  }

  BrokerProcess broker_;
  std::optional<client::Connection> conn_;
  uint16_t mport_ = 0;
  TmuxSession tmux_;
};

TEST_F(RustlogTopTest, FollowsRecordsAndCommitsInPlaceAndQuitsOnQ) {
  ASSERT_TRUE(call<CreateTopicResponse>(*conn_, CreateTopicRequest{"orders", 2}).success);
  ASSERT_TRUE(start_top());
  const auto hwm_is = [](const std::string& v) {
    return [v](const std::string& s) {
      auto r = row(s, {"orders", "0"});
      return r.size() > 3 && r[3] == v;
    };
  };
  std::string s = screen_until(hwm_is("0"));
  ASSERT_TRUE(hwm_is("0")(s)) << s;
  EXPECT_EQ(s.rfind("kafka-lite ", 0), 0u) << s;  // drawn from the top-left corner
  EXPECT_EQ(row(s, {"orders", "1"}).size(), 14u) << s;  // 11 columns, three of them "0 B"

  call<ProduceResponse>(*conn_, ProduceRequest{"orders", 0, {"a", "b", "c", "d", "e", "f", "g"}});
  s = screen_until(hwm_is("7"));
  ASSERT_TRUE(hwm_is("7")(s)) << s;
  EXPECT_EQ(row(s, {"orders", "0"})[4], "7") << s;  // records

  // The group commits 3 of 7: lag 4.
  call<OffsetCommitResponse>(*conn_, OffsetCommitRequest{"billing", "orders", 0, 3});
  const auto group_is = [](const std::vector<std::string>& want) {
    return [want](const std::string& screen) { return row(screen, want).size() >= want.size(); };
  };
  s = screen_until(group_is({"billing", "orders", "0", "3", "7", "4"}));
  ASSERT_TRUE(group_is({"billing", "orders", "0", "3", "7", "4"})(s)) << s;

  // New records, no commit: the lag grows, marked ▲ and highlighted.
  call<ProduceResponse>(*conn_, ProduceRequest{"orders", 0, {"h", "i", "j", "k", "l"}});
  s = screen_until(group_is({"billing", "orders", "0", "3", "12", "9", "▲"}));
  ASSERT_TRUE(group_is({"billing", "orders", "0", "3", "12", "9", "▲"})(s)) << s;
  const std::string colored = tmux_.screen(/*with_escapes=*/true);
  EXPECT_NE(colored.find("43m9 ▲"), std::string::npos) << colored;  // yellow background on the lag

  // In place: one frame on the screen, not a scroll of frames.
  EXPECT_EQ(count_lines_starting(s, "kafka-lite "), 1u) << s;
  EXPECT_EQ(count_lines_starting(s, "TOPIC "), 1u) << s;
  EXPECT_EQ(count_lines_starting(s, "GROUP "), 1u) << s;

  tmux_.send_keys({"q"});
  s = screen_until([](const std::string& x) { return x.find("modes: ") != std::string::npos; });
  EXPECT_NE(s.find("top exited with 0"), std::string::npos) << s;
  EXPECT_NE(s.find("modes: icanon echo"), std::string::npos) << s;  // cooked mode again
  EXPECT_EQ(s.find("TOPIC "), std::string::npos) << s;       // the main screen is back
}

TEST_F(RustlogTopTest, ReportsALostBrokerAndQuitsOnCtrlC) {
  ASSERT_TRUE(call<CreateTopicResponse>(*conn_, CreateTopicRequest{"kept", 1}).success);
  call<ProduceResponse>(*conn_, ProduceRequest{"kept", 0, {"x", "y"}});
  ASSERT_TRUE(start_top());
  const auto two = [](const std::string& s) {
    auto r = row(s, {"kept", "0"});
    return r.size() > 3 && r[3] == "2";
  };
  std::string s = screen_until(two);
  ASSERT_TRUE(two(s)) << s;

  conn_.reset();
  ASSERT_EQ(broker_.stop(), 0);
  s = screen_until([](const std::string& x) { return x.find("broker unreachable") != std::string::npos; });
  EXPECT_NE(s.find("broker unreachable: GET http://" + metrics_address() + "/api/status"), std::string::npos) << s;
  EXPECT_TRUE(two(s)) << "the last numbers stay on screen\n" << s;

  tmux_.send_keys({"C-c"});
  s = screen_until([](const std::string& x) { return x.find("modes: ") != std::string::npos; });
  EXPECT_NE(s.find("top exited with 0"), std::string::npos) << s;
  EXPECT_NE(s.find("modes: icanon echo"), std::string::npos) << s;
}

TEST_F(RustlogTopTest, ShowsAReadOnlyPartitionInRed) {
  // No real broker can be made to hit a fatal I/O error on demand here, so
  // top reads the broker's real /api/status through a relay in this process
  // that marks partition 1 read-only, and the test checks how top shows it.
  ASSERT_TRUE(call<CreateTopicResponse>(*conn_, CreateTopicRequest{"disk", 2}).success);
  httplib::Server relay;
  relay.Get("/api/status", [this](const httplib::Request&, httplib::Response& res) {
    auto real = http_get(mport_, "/api/status");
    if (real.status != 200) {
      res.status = 502;
      return;
    }
    auto doc = nlohmann::json::parse(real.body);
    for (auto& t : doc["topics"])
      if (t["name"] == "disk") t["partitions"][1]["read_only"] = true;
    doc["totals"]["read_only_partitions"] = 1;
    res.set_content(doc.dump(), "application/json");
  });
  const int relay_port = relay.bind_to_any_port("127.0.0.1");
  ASSERT_GT(relay_port, 0);
  std::thread relay_thread([&] { relay.listen_after_bind(); });
  struct StopRelay {
    httplib::Server& s;
    std::thread& t;
    ~StopRelay() {
      s.stop();
      t.join();
    }
  } stop_relay{relay, relay_thread};

  ASSERT_TRUE(tmux_.start(rustlog_path() + " top --interval 0.3 --metrics-address 127.0.0.1:" +
                              std::to_string(relay_port) + "; sleep 600",
                          150, 40));
  const auto marked = [](const std::string& screen) {
    auto r = row(screen, {"disk", "1"});
    return !r.empty() && r.back() == "READ-ONLY";
  };
  const std::string screen = screen_until(marked);
  ASSERT_TRUE(marked(screen)) << screen;
  EXPECT_NE(row(screen, {"disk", "0"}).back(), "READ-ONLY") << screen;
  EXPECT_EQ(row(screen, {"topics"}).at(5), "1") << screen;  // "topics N partitions N read-only 1"
  // The row's cells are white on red (SGR 41); partition 0's are not.
  const std::string colored = tmux_.screen(/*with_escapes=*/true);
  std::istringstream in(colored);
  bool red1 = false, red0 = false;
  for (std::string line; std::getline(in, line);) {
    if (line.find("disk") == std::string::npos) continue;
    const bool red = line.find("41m") != std::string::npos;
    if (line.find("READ-ONLY") != std::string::npos) red1 = red;
    else red0 = red;
  }
  EXPECT_TRUE(red1) << colored;
  EXPECT_FALSE(red0) << colored;
  tmux_.send_keys({"q"});
}

TEST_F(RustlogTopTest, OncePrintsPlainTextAndErrorsSayWhatToDo) {
  ASSERT_TRUE(call<CreateTopicResponse>(*conn_, CreateTopicRequest{"plain", 1}).success);
  call<MetricsResponse>(*conn_, MetricsFetchRequest{});  // publishes a fresh snapshot
  auto r = run_command({rustlog_path(), "top", "--once", "--metrics-address", metrics_address()});
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(row(r.output, {"plain", "0"}).size(), 14u) << r.output;
  EXPECT_NE(r.output.find("TOPIC"), std::string::npos);
  EXPECT_EQ(r.output.find('\x1b'), std::string::npos) << "no escape sequences in plain output";

  // Not a terminal, no --once: refused with the way out.
  r = run_command({rustlog_path(), "top", "--metrics-address", metrics_address()});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(has_substr(r.output, "not a terminal; use 'rustlog top --once'"));
  // Nothing listening there.
  const uint16_t free_port = free_tcp_port();
  r = run_command({rustlog_path(), "top", "--once", "--metrics-address", "127.0.0.1:" + std::to_string(free_port)});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(has_substr(r.output, "is kafka-lite running with --metrics-listen"));
  // A malformed address: the error names the option.
  r = run_command({rustlog_path(), "top", "--once", "--metrics-address", "[::1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(has_substr(r.output, "--metrics-address"));
}

}  // namespace
}  // namespace rustlog::test
