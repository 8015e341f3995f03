// Every program in examples/ runs against a test broker and exits 0; the
// consumer example resumes where its group left off.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>

#include "support/broker_process.h"
#include "support/child_process.h"

namespace rustlog::test {
namespace {

class ExamplesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!std::filesystem::exists(bin("examples/producer"))) GTEST_SKIP() << "examples not built";
    ASSERT_TRUE(broker_.start());
    addr_ = "127.0.0.1:" + std::to_string(broker_.port());
  }
  // Runs an example with --broker (or RUSTLOG_BROKER when via_env), expecting exit 0.
  std::string run(const std::string& name, std::vector<std::string> args = {}, bool via_env = false) {
    std::vector<std::string> argv = {bin("examples/" + name)};
    RunOptions o;
    if (via_env) o.env["RUSTLOG_BROKER"] = addr_;
    else argv.insert(argv.end(), {"--broker", addr_});
    argv.insert(argv.end(), args.begin(), args.end());
    RunResult r = run_program(argv, o);
    EXPECT_EQ(r.exit_code, 0) << name << "\nstdout: " << r.out << "\nstderr: " << r.err;
    return r.out;
  }

  BrokerProcess broker_{{"--metrics-listen", "off"}};
  std::string addr_;
};

TEST_F(ExamplesTest, ProducerThenConsumerResumesWhereItLeftOff) {
  const std::string p = run("producer", {"--count", "20"});
  EXPECT_NE(p.find("produced 20 keyed records and 1 marker"), std::string::npos) << p;
  EXPECT_NE(p.find("marker at example-orders/0 offset "), std::string::npos) << p;
  const std::string c1 = run("consumer", {"--max", "8"}, /*via_env=*/true);
  EXPECT_NE(c1.find("consumed 8 records as group example-group"), std::string::npos) << c1;
  const std::string c2 = run("consumer");
  EXPECT_NE(c2.find("consumed 13 records"), std::string::npos) << c2;
  const std::string c3 = run("consumer");
  EXPECT_NE(c3.find("consumed 0 records"), std::string::npos) << c3;
  // No record printed twice across the runs.
  std::set<std::string> seen;
  size_t lines = 0;
  for (const auto& out : {c1, c2})
    for (const auto& l : split_lines(out))
      if (l.rfind("example-orders/", 0) == 0) {
        ++lines;
        seen.insert(l);
      }
  EXPECT_EQ(lines, 21u);
  EXPECT_EQ(seen.size(), 21u);
}

TEST_F(ExamplesTest, AdminAndMetrics) {
  const std::string a1 = run("admin");
  EXPECT_NE(a1.find("created example-admin"), std::string::npos) << a1;
  EXPECT_NE(a1.find("retention.ms = 3600000"), std::string::npos) << a1;
  EXPECT_NE(a1.find("404 TopicNotFound"), std::string::npos) << a1;
  const std::string a2 = run("admin");
  EXPECT_NE(a2.find("example-admin already exists"), std::string::npos) << a2;
  const std::string m = run("metrics", {}, /*via_env=*/true);
  EXPECT_NE(m.find("requests by type:"), std::string::npos) << m;
  EXPECT_NE(m.find("CreateTopicEx"), std::string::npos) << m;
}

TEST_F(ExamplesTest, BadOptionsAndUnreachableBroker) {
  RunResult r = run_program({bin("examples/producer"), "--nope", "1"});
  EXPECT_EQ(r.exit_code, 2);
  r = run_program({bin("examples/admin"), "--broker", "127.0.0.1:1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("cannot connect"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace rustlog::test
