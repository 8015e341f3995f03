// README.md's five-minute tour, run as written, so that it stays true.
//
// The test takes the ```sh blocks of the "## Five-minute tour" section and
// runs their lines in order with bash (-o pipefail) against a test broker:
//   - a line starting the broker (scripts/run.sh or kafka-lite) is not run:
//     this test's broker plays that part (its data dir is ./data in the
//     working directory, as after `bash scripts/run.sh`);
//   - before the first offline command (rustlog verify / dump) the broker is
//     stopped, as the README says, and must exit 0;
//   - build/release/ is replaced by this build's directory, and RUSTLOG_BROKER
//     points at the test broker.
// Every line must exit 0; a few outputs the README's comments promise are
// checked too.
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "support/broker_process.h"
#include "support/child_process.h"

namespace rustlog::test {
namespace {

std::vector<std::string> tour_lines(const std::string& readme) {
  std::vector<std::string> lines;
  std::istringstream in(readme);
  bool in_section = false, in_block = false;
  for (std::string l; std::getline(in, l);) {
    if (l.rfind("## ", 0) == 0) {
      in_section = l.rfind("## Five-minute tour", 0) == 0;
      continue;
    }
    if (!in_section) continue;
    if (l.rfind("```", 0) == 0) {
      in_block = !in_block && l == "```sh";
      continue;
    }
    if (in_block && l.find_first_not_of(' ') != std::string::npos) lines.push_back(l);
  }
  return lines;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size())) s.replace(at, from.size(), to);
  return s;
}

TEST(ReadmeTourTest, RunsAsWritten) {
  const std::string readme = read_file(source_dir() + "/README.md");
  ASSERT_FALSE(readme.empty()) << "cannot read " << source_dir() << "/README.md";
  const auto lines = tour_lines(readme);
  ASSERT_GE(lines.size(), 8u) << "no tour found in README.md";

  BrokerProcess broker({"--metrics-listen", "off"});
  ASSERT_TRUE(broker.start());
  RunOptions o;
  o.env["RUSTLOG_BROKER"] = "127.0.0.1:" + std::to_string(broker.port());
  o.cwd = broker.root_dir();  // holds data/, the broker's data dir
  ASSERT_EQ(broker.data_dir(), broker.root_dir() + "/data");

  bool started_line = false, offline = false;
  std::string outputs;
  for (const auto& line : lines) {
    SCOPED_TRACE(line);
    if (line.find("scripts/run.sh") != std::string::npos || line.find("kafka-lite") != std::string::npos) {
      started_line = true;
      continue;
    }
    const bool offline_cmd = line.find("rustlog verify") != std::string::npos || line.find("rustlog dump") != std::string::npos;
    if (offline_cmd && !offline) {
      ASSERT_EQ(broker.stop(), 0) << broker.log_tail();
      offline = true;
    }
    const std::string cmd = replace_all(line, "build/release/", std::string(RUSTLOG_BIN_DIR) + "/");
    RunResult r = run_program({"bash", "-o", "pipefail", "-c", cmd}, o);
    ASSERT_EQ(r.exit_code, 0) << "README line failed: " << line << "\nstdout:\n" << r.out << "\nstderr:\n" << r.err
                              << "\n" << broker.log_tail();
    outputs += "$ " + line + "\n" + r.out;

    if (line.find("consume demo --group tour --count 5") != std::string::npos) {
      EXPECT_EQ(r.out, "event-1\nevent-2\nevent-3\nevent-4\nevent-5\n");
    }
    if (line.find("group describe tour") != std::string::npos) {
      EXPECT_NE(r.out.find("demo"), std::string::npos) << r.out;
      EXPECT_NE(r.out.find("995"), std::string::npos) << r.out;  // the lag the comment promises
    }
    if (line.find("--format json") != std::string::npos) {
      const auto recs = split_lines(r.out);
      ASSERT_EQ(recs.size(), 3u) << r.out;
      EXPECT_NE(recs[0].find("\"offset\":5"), std::string::npos) << r.out;
      EXPECT_NE(recs[0].find("\"value\":\"event-6\""), std::string::npos) << r.out;
    }
    if (line.find("rustlog verify") != std::string::npos) {
      EXPECT_NE(r.out.find("demo-0"), std::string::npos) << r.out;
    }
  }
  EXPECT_TRUE(started_line) << "the tour should say how to start the broker";
  EXPECT_TRUE(offline) << "the tour should end with the offline check";
  std::printf("%s", outputs.c_str());
}

}  // namespace
}  // namespace rustlog::test
