// End-to-end tests of the networked `rustlog` commands: a real kafka-lite
// (BrokerProcess) and the real rustlog binary as a child process, with
// RUSTLOG_BROKER pointing at the broker.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <netinet/in.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "client/client.h"
#include "support/broker_process.h"
#include "support/child_process.h"

namespace rustlog::test {
namespace {

using nlohmann::json;

class CliClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(broker_.start());
    addr_ = "127.0.0.1:" + std::to_string(broker_.port());
  }

  RunOptions opts(std::string stdin_data = {}) {
    RunOptions o;
    o.env["RUSTLOG_BROKER"] = addr_;
    o.stdin_data = std::move(stdin_data);
    return o;
  }
  RunResult rustlog(std::vector<std::string> args, std::string stdin_data = {}) {
    args.insert(args.begin(), bin("rustlog"));
    return run_program(args, opts(std::move(stdin_data)));
  }
  // Runs and expects exit 0 with nothing on stderr.
  std::string ok(std::vector<std::string> args, std::string stdin_data = {}) {
    std::string cmd;
    for (const auto& a : args) cmd += " " + a;
    RunResult r = rustlog(std::move(args), std::move(stdin_data));
    EXPECT_EQ(r.exit_code, 0) << "rustlog" << cmd << "\nstderr: " << r.err << "\n" << broker_.log_tail();
    EXPECT_EQ(r.err, "") << "rustlog" << cmd;
    return r.out;
  }
  json ok_json(std::vector<std::string> args) {
    args.push_back("--json");
    const std::string out = ok(args);
    return json::parse(out);  // throws (test fails) when it does not parse
  }
  // Expects exit 1, nothing on stdout, and one line "rustlog: ..." on stderr.
  std::string fails(std::vector<std::string> args, const RunOptions* o = nullptr) {
    std::string cmd;
    for (const auto& a : args) cmd += " " + a;
    args.insert(args.begin(), bin("rustlog"));
    RunResult r = run_program(args, o ? *o : opts());
    EXPECT_EQ(r.exit_code, 1) << "rustlog" << cmd << "\nstdout: " << r.out << "\nstderr: " << r.err;
    EXPECT_EQ(r.out, "") << "rustlog" << cmd;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "rustlog" << cmd << ": " << r.err;
    EXPECT_EQ(r.err.rfind("rustlog: ", 0), 0u) << r.err;
    EXPECT_EQ(r.err.find("terminate called"), std::string::npos) << r.err;
    return r.err;
  }

  BrokerProcess broker_{{"--metrics-listen", "off"}};
  std::string addr_;
};

std::string numbered_line(int i) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "line-%05d-", i);
  return std::string(buf) + std::string(89, 'x');  // 100 bytes: the pipe fills after ~650 lines
}

TEST_F(CliClientTest, TenThousandLinesThroughAGroupSurviveAKilledConsumer) {
  ok({"topic", "create", "big", "--partitions", "1"});
  std::string input;
  std::vector<std::string> expected;
  for (int i = 0; i < 10000; ++i) {
    expected.push_back(numbered_line(i));
    input += expected.back() + "\n";
  }
  EXPECT_EQ(ok({"produce", "big"}, input), "");  // silent without --verbose
  json d = ok_json({"topic", "describe", "big"});
  ASSERT_EQ(d["partitions"][0]["high_watermark"], 10000);

  // First consumer: read ~3000 lines from its stdout, then kill -9 it while
  // it is blocked writing (the pipe is full).
  std::string first;
  {
    SpawnedProgram consumer({bin("rustlog"), "consume", "big", "--group", "g1", "--count", "10000"}, opts());
    size_t lines = 0;
    while (lines < 3000) {
      std::string s = consumer.read_some();
      ASSERT_FALSE(s.empty()) << "consumer ended early: " << consumer.err();
      lines += static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
      first += s;
    }
    consumer.kill(SIGKILL);
    first += consumer.read_rest();  // everything it wrote before dying
    EXPECT_EQ(consumer.wait(), 128 + SIGKILL);
  }
  // A line cut by the kill was never completely printed: drop it.
  if (!first.empty() && first.back() != '\n') first.erase(first.rfind('\n') + 1);
  const std::vector<std::string> got1 = split_lines(first);
  ASSERT_GE(got1.size(), 3000u);
  ASSERT_LT(got1.size(), 10000u) << "the consumer finished before it was killed";
  for (size_t i = 0; i < got1.size(); ++i) ASSERT_EQ(got1[i], expected[i]) << "line " << i;

  json g = ok_json({"group", "describe", "g1"});
  ASSERT_EQ(g["offsets"].size(), 1u);
  const uint64_t committed = g["offsets"][0]["committed"];
  // Commits follow what was printed: never ahead of it, at most one batch behind.
  EXPECT_GT(committed, 0u);
  EXPECT_LE(committed, got1.size());
  EXPECT_LE(got1.size() - committed, 500u);

  // Restart with the same group: resumes at the committed offset, reads to the end.
  const std::vector<std::string> got2 = split_lines(ok({"consume", "big", "--group", "g1"}));
  ASSERT_EQ(got2.size(), 10000 - committed);
  for (size_t i = 0; i < got2.size(); ++i) ASSERT_EQ(got2[i], expected[committed + i]) << "line " << i;
  // Nothing lost; repeated: exactly the records printed after the last commit.
  std::set<std::string> all(got1.begin(), got1.end());
  all.insert(got2.begin(), got2.end());
  EXPECT_EQ(all.size(), 10000u);
  EXPECT_EQ(got1.size() + got2.size() - 10000, got1.size() - committed);

  g = ok_json({"group", "describe", "g1"});
  EXPECT_EQ(g["offsets"][0]["committed"], 10000);
  EXPECT_EQ(g["offsets"][0]["lag"], 0);
  // Caught up: another run prints nothing and exits 0.
  EXPECT_EQ(ok({"consume", "big", "--group", "g1"}), "");
}

TEST_F(CliClientTest, JsonOutputParses) {
  json p = ok_json({"ping"});
  EXPECT_EQ(p["broker"], addr_);
  EXPECT_FALSE(p["server_version"].get<std::string>().empty());

  json c = ok_json({"topic", "create", "j", "--partitions", "2", "--config", "retention.ms=3600000"});
  EXPECT_EQ(c["created"], "j");
  json l = ok_json({"topic", "list"});
  ASSERT_EQ(l.size(), 1u);
  EXPECT_EQ(l[0]["name"], "j");
  EXPECT_EQ(l[0]["partitions"], 2);

  ok({"produce", "j", "--partition", "1"}, "a\nb\nc\n");
  json d = ok_json({"topic", "describe", "j"});
  EXPECT_EQ(d["partition_count"], 2);
  EXPECT_EQ(d["partitions"][1]["high_watermark"], 3);
  EXPECT_EQ(d["partitions"][1]["segments"], 1);
  EXPECT_GT(d["partitions"][1]["size_bytes"].get<uint64_t>(), 0u);
  EXPECT_EQ(d["config"]["retention.ms"], "3600000");

  const auto lines = split_lines(ok({"consume", "j", "--group", "gj", "--format", "json"}));
  ASSERT_EQ(lines.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    json r = json::parse(lines[i]);
    EXPECT_EQ(r["partition"], 1);
    EXPECT_EQ(r["offset"], i);
    EXPECT_EQ(r["value"], std::string(1, static_cast<char>('a' + i)));
    EXPECT_TRUE(r["key"].is_null());
  }
  json gl = ok_json({"group", "list"});
  ASSERT_EQ(gl.size(), 1u);
  EXPECT_EQ(gl[0]["group"], "gj");
  json gd = ok_json({"group", "describe", "gj"});
  ASSERT_EQ(gd["offsets"].size(), 2u);  // every partition read is committed, the empty one at 0
  EXPECT_EQ(gd["offsets"][0]["partition"], 0);
  EXPECT_EQ(gd["offsets"][0]["committed"], 0);
  EXPECT_EQ(gd["offsets"][1]["partition"], 1);
  EXPECT_EQ(gd["offsets"][1]["committed"], 3);
  EXPECT_EQ(gd["offsets"][1]["lag"], 0);
  json gr = ok_json({"group", "reset", "gj", "--topic", "j", "--partition", "1", "--to-earliest"});
  EXPECT_EQ(gr["reset"][0]["previous"], 3);
  EXPECT_EQ(gr["reset"][0]["committed"], 0);

  json m = ok_json({"metrics"});
  bool found_requests = false;
  for (const auto& f : m["families"]) found_requests |= f["name"] == "rustlog_requests_total";
  EXPECT_TRUE(found_requests);
  EXPECT_TRUE(m["consumer_lag"].is_array());
  json del = ok_json({"group", "delete", "gj"});
  EXPECT_EQ(del["deleted"], "gj");
  json tdel = ok_json({"topic", "delete", "j"});
  EXPECT_EQ(tdel["deleted"], "j");
}

TEST_F(CliClientTest, ErrorsExitOneWithOneLine) {
  ok({"topic", "create", "e"});
  EXPECT_NE(fails({"consume", "nope"}).find("topic 'nope' does not exist (404"), std::string::npos);
  EXPECT_NE(fails({"topic", "describe", "nope"}).find("404"), std::string::npos);
  EXPECT_NE(fails({"produce", "nope"}).find("404"), std::string::npos);
  EXPECT_NE(fails({"topic", "create", "e"}).find("409"), std::string::npos);
  EXPECT_NE(fails({"group", "describe", "nobody"}).find("nobody"), std::string::npos);
  EXPECT_NE(fails({"group", "reset", "g", "--topic", "e", "--to-offset", "5"}).find("416"), std::string::npos);
  EXPECT_NE(fails({"topic", "create", "bad", "--config", "no.such.key=1"}).find("400"), std::string::npos);
  EXPECT_NE(fails({"consume", "e", "--partition", "3"}).find("partition 3 does not exist"), std::string::npos);
  EXPECT_NE(fails({"consume", "e", "--offset", "9"}).find("out of range"), std::string::npos);

  // Bad flags and arguments.
  EXPECT_NE(fails({"topic", "list", "--bogus"}).find("rustlog topic list --help"), std::string::npos);
  fails({"consume", "e", "--format", "xml"});
  fails({"consume", "e", "--from-beginning", "--offset", "0"});
  fails({"consume", "e", "--from-time", "yesterday-ish"});
  fails({"produce", "e", "--header", "novalue"});
  fails({"topic", "create"});
  fails({"nosuchcommand"});
  fails({"ping", "--broker", "localhost:notaport"});

  // Broker down: a port nothing listens on.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);  // bound, never listened: connecting is refused
  RunOptions down = opts();
  down.env["RUSTLOG_BROKER"] = "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
  for (std::vector<std::string> cmd : {std::vector<std::string>{"ping"}, {"topic", "list"}, {"consume", "e"},
                                       {"group", "list"}, {"metrics"}}) {
    const std::string err = fails(cmd, &down);
    EXPECT_NE(err.find("cannot connect"), std::string::npos) << err;
    EXPECT_NE(err.find("(520 Transport)"), std::string::npos) << err;  // its own code, not 503 StorageError
  }
  RunOptions s = opts("x\n");
  s.env["RUSTLOG_BROKER"] = down.env["RUSTLOG_BROKER"];
  fails({"produce", "e"}, &s);
}

TEST_F(CliClientTest, BrokerFlagOverridesTheEnvironment) {
  RunOptions o = opts();
  o.env["RUSTLOG_BROKER"] = "127.0.0.1:1";
  RunResult r = run_program({bin("rustlog"), "ping", "--broker", addr_}, o);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("pong from " + addr_), std::string::npos) << r.out;
}

TEST_F(CliClientTest, KeysHeadersPartitionsAndFormats) {
  ok({"topic", "create", "kv", "--partitions", "3"});
  ok({"produce", "kv", "--key-separator", ":", "--header", "src=test", "--header", "n=1"},
     "alice:hello\nbob:world\nalice:again\nno key here\n");
  auto c = client::Client::connect(addr_);
  ASSERT_TRUE(c) << c.error().to_string();
  const uint32_t pa = client::partition_for_key("alice", 3);
  const uint32_t pb = client::partition_for_key("bob", 3);

  const auto lines = split_lines(ok({"consume", "kv", "--format", "json"}));
  ASSERT_EQ(lines.size(), 4u);
  std::vector<std::string> alice;
  for (const auto& l : lines) {
    json r = json::parse(l);
    ASSERT_EQ(r["headers"].size(), 2u);
    EXPECT_EQ(r["headers"][0]["name"], "src");
    EXPECT_EQ(r["headers"][0]["value"], "test");
    if (r["key"].is_null()) {
      EXPECT_EQ(r["value"], "no key here");
      EXPECT_EQ(r["partition"], 0);  // unkeyed lines go to partition 0
    } else if (r["key"] == "alice") {
      EXPECT_EQ(r["partition"], pa);
      alice.push_back(r["value"]);
    } else {
      EXPECT_EQ(r["key"], "bob");
      EXPECT_EQ(r["partition"], pb);
    }
  }
  EXPECT_EQ(alice, (std::vector<std::string>{"hello", "again"}));  // one key keeps its order

  // Per partition, the lines in the order they were produced.
  std::map<uint32_t, std::vector<std::pair<std::string, std::string>>> by_partition;
  for (auto [k, v] : std::vector<std::pair<std::string, std::string>>{
           {"alice", "hello"}, {"bob", "world"}, {"alice", "again"}, {"", "no key here"}})
    by_partition[k.empty() ? 0 : client::partition_for_key(k, 3)].emplace_back(k, v);
  std::string want_kv, want_from_1;
  for (size_t i = 0; i < by_partition[pa].size(); ++i) {
    want_kv += by_partition[pa][i].first + "\t" + by_partition[pa][i].second + "\n";
    if (i >= 1) want_from_1 += by_partition[pa][i].second + "\n";
  }
  EXPECT_EQ(ok({"consume", "kv", "--partition", std::to_string(pa), "--format", "kv"}), want_kv);
  EXPECT_EQ(ok({"consume", "kv", "--partition", std::to_string(pa), "--offset", "1"}), want_from_1);
  EXPECT_EQ(ok({"consume", "kv", "--partition", "2", "--count", "0"}), "");

  // --partition puts every line there; --from-time picks by timestamp.
  ok({"produce", "kv", "--partition", "2", "--key-separator", ":"}, "alice:pinned\n");
  const std::string p2 = ok({"consume", "kv", "--partition", "2", "--format", "kv", "--key-separator", "="});
  EXPECT_NE(p2.find("alice=pinned\n"), std::string::npos) << p2;
  EXPECT_EQ(ok({"consume", "kv", "--from-time", "2999-01-01T00:00:00Z"}), "");
  EXPECT_EQ(split_lines(ok({"consume", "kv", "--from-time", "1h"})).size(), 5u);
  EXPECT_EQ(split_lines(ok({"consume", "kv", "--from-time", "0"})).size(), 5u);

  // --verbose reports the acknowledged batches on stderr.
  RunResult v = rustlog({"produce", "kv", "--partition", "1", "--verbose"}, "x\ny\n");
  EXPECT_EQ(v.exit_code, 0);
  EXPECT_EQ(v.out, "");
  EXPECT_NE(v.err.find("produced 2 records to kv"), std::string::npos) << v.err;
}

TEST_F(CliClientTest, NullEmptySendsEmptyValuesAsTombstones) {
  ok({"topic", "create", "users", "--config", "cleanup.policy=compact"});
  ok({"produce", "users", "-k", ":", "-Z"}, "user-7:\nuser-8:kept\n");
  ok({"produce", "users", "-k", ":", "--null-empty"}, "user-6:\n");
  ok({"produce", "users", "-k", ":"}, "user-9:\n");  // without the flag an empty value stays empty
  const auto lines = split_lines(ok({"consume", "users", "--format", "json"}));
  ASSERT_EQ(lines.size(), 4u);
  const json r0 = json::parse(lines[0]), r1 = json::parse(lines[1]), r2 = json::parse(lines[2]),
             r3 = json::parse(lines[3]);
  EXPECT_EQ(r0["key"], "user-7");
  EXPECT_TRUE(r0["value"].is_null()) << lines[0];
  EXPECT_EQ(r1["value"], "kept");
  EXPECT_EQ(r2["key"], "user-6");
  EXPECT_TRUE(r2["value"].is_null()) << lines[2];
  EXPECT_EQ(r3["key"], "user-9");
  EXPECT_EQ(r3["value"], "") << lines[3];

  // A compacted topic refuses a line without a key, saying why.
  RunResult r = rustlog({"produce", "users"}, "no key here\n");
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_TRUE(r.err.find("needs a key") != std::string::npos) << r.err;
  EXPECT_EQ(split_lines(ok({"consume", "users"})).size(), 4u) << "nothing of the refused produce landed";
}

TEST_F(CliClientTest, FollowWaitsForNewRecordsAndCommitsOnCtrlC) {
  ok({"topic", "create", "live"});
  SpawnedProgram follower({bin("rustlog"), "consume", "live", "--group", "gf", "--follow"}, opts());
  // Nothing yet: the follower long-polls. Produce, then read what it prints.
  ok({"produce", "live"}, "one\ntwo\nthree\n");
  std::string got;
  while (std::count(got.begin(), got.end(), '\n') < 3) {
    std::string s = follower.read_some();
    ASSERT_FALSE(s.empty()) << follower.err();
    got += s;
  }
  EXPECT_EQ(got, "one\ntwo\nthree\n");
  follower.kill(SIGINT);
  EXPECT_EQ(follower.wait(), 0) << follower.err();
  json g = ok_json({"group", "describe", "gf"});
  EXPECT_EQ(g["offsets"][0]["committed"], 3);

  // --follow --count stops after N records, waiting for them to arrive.
  SpawnedProgram counted({bin("rustlog"), "consume", "live", "--offset", "3", "--follow", "--count", "2"}, opts());
  ok({"produce", "live"}, "four\nfive\nsix\n");
  EXPECT_EQ(counted.read_rest(), "four\nfive\n");
  EXPECT_EQ(counted.wait(), 0) << counted.err();
}

TEST_F(CliClientTest, GroupResetMovesTheNextConsumer) {
  ok({"topic", "create", "r"});
  ok({"produce", "r"}, "a\nb\nc\nd\n");
  EXPECT_EQ(ok({"consume", "r", "--group", "gr", "--count", "3"}), "a\nb\nc\n");
  const std::string table = ok({"group", "describe", "gr"});
  EXPECT_NE(table.find("TOPIC"), std::string::npos);
  EXPECT_NE(table.find("LAG"), std::string::npos);
  ok({"group", "reset", "gr", "--topic", "r", "--to-offset", "1"});
  EXPECT_EQ(ok({"consume", "r", "--group", "gr"}), "b\nc\nd\n");
  ok({"group", "reset", "gr", "--topic", "r", "--to-earliest"});
  EXPECT_EQ(ok({"consume", "r", "--group", "gr", "--count", "1"}), "a\n");
  ok({"group", "reset", "gr", "--topic", "r", "--to-latest"});
  EXPECT_EQ(ok({"consume", "r", "--group", "gr"}), "");
  // --from-beginning overrides the committed offset.
  EXPECT_EQ(ok({"consume", "r", "--group", "gr", "--from-beginning", "--count", "2"}), "a\nb\n");
  ok({"group", "delete", "gr"});
  EXPECT_EQ(ok({"group", "list"}), "no consumer groups (a group appears at its first commit)\n");
  ok({"topic", "delete", "r"});
  EXPECT_NE(ok({"topic", "list"}).find("no topics"), std::string::npos);
}

TEST_F(CliClientTest, EverySubcommandHasHelpWithAnExample) {
  const std::vector<std::vector<std::string>> cmds = {
      {},          {"ping"},           {"topic"},          {"topic", "create"}, {"topic", "list"},
      {"topic", "describe"}, {"topic", "delete"}, {"produce"}, {"consume"},  {"group"},
      {"group", "list"}, {"group", "describe"}, {"group", "reset"}, {"group", "delete"}, {"metrics"},
      {"verify"},  {"dump"}};
  for (auto cmd : cmds) {
    std::string name = "rustlog";
    for (const auto& c : cmd) name += " " + c;
    cmd.push_back("--help");
    RunResult r = rustlog(cmd);
    EXPECT_EQ(r.exit_code, 0) << name;
    EXPECT_NE(r.out.find("Example"), std::string::npos) << name << " --help has no example:\n" << r.out;
    const bool networked_leaf = cmd.size() > 1 && cmd[0] != "verify" && cmd[0] != "dump" &&
                                !((cmd[0] == "topic" || cmd[0] == "group") && cmd.size() == 2);
    if (networked_leaf) {
      EXPECT_NE(r.out.find("--broker"), std::string::npos) << name;
    }
  }
}

TEST_F(CliClientTest, MetricsAreReadableWithALagTable) {
  ok({"topic", "create", "m"});
  ok({"produce", "m"}, "1\n2\n3\n4\n");
  ok({"consume", "m", "--group", "gm", "--count", "1"});
  // The broker publishes group offsets on its metrics snapshot: wait for it.
  std::string out;
  for (int i = 0; i < 100; ++i) {
    out = ok({"metrics"});
    if (out.find("Consumer lag") != std::string::npos) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_NE(out.find("rustlog_requests_total"), std::string::npos) << out;
  EXPECT_NE(out.find("HISTOGRAM"), std::string::npos) << out;
  ASSERT_NE(out.find("Consumer lag"), std::string::npos) << out;
  const std::string lag = out.substr(out.find("Consumer lag"));
  EXPECT_NE(lag.find("gm"), std::string::npos) << lag;
  const std::string raw = ok({"metrics", "--raw"});
  EXPECT_NE(raw.find("# TYPE rustlog_requests_total counter"), std::string::npos);
  const std::string filtered = ok({"metrics", "connections_open"});
  EXPECT_NE(filtered.find("rustlog_connections_open"), std::string::npos);
  EXPECT_EQ(filtered.find("rustlog_requests_total"), std::string::npos);
}

}  // namespace
}  // namespace rustlog::test
