// `rustlog bench produce | consume | e2e` against a real kafka-lite: the
// records it reports are the records the broker holds, the topic rules
// (created and deleted, or kept, or an existing one left alone), the JSON
// fields, the progress line, and its errors.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "client/client.h"
#include "support/broker_process.h"
#include "support/child_process.h"

namespace rustlog::test {
namespace {

using nlohmann::json;

class RustlogBenchTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(broker_.start());
    addr_ = "127.0.0.1:" + std::to_string(broker_.port());
  }
  RunResult bench(std::vector<std::string> args) {
    args.insert(args.begin(), {bin("rustlog"), "bench"});
    RunOptions o;
    o.env["RUSTLOG_BROKER"] = addr_;
    return run_program(args, o);
  }
  // Runs with --json, expects exit 0, returns the summary object.
  json bench_json(std::vector<std::string> args, std::string* err = nullptr) {
    args.push_back("--json");
    RunResult r = bench(args);
    EXPECT_EQ(r.exit_code, 0) << r.err << "\n" << broker_.log_tail();
    if (err) *err = r.err;
    json j = json::parse(r.out);
    for (const char* k : {"records", "seconds", "records_per_sec", "mb_per_sec", "p50_us", "p99_us", "p999_us",
                          "max_us"})
      EXPECT_TRUE(j.contains(k)) << k << " missing in " << r.out;
    EXPECT_LE(j["p50_us"].get<double>(), j["p99_us"].get<double>());
    EXPECT_LE(j["p99_us"].get<double>(), j["p999_us"].get<double>());
    EXPECT_LE(j["p999_us"].get<double>(), j["max_us"].get<double>());
    return j;
  }
  client::Client connect() {
    auto c = client::Client::connect(addr_);
    EXPECT_TRUE(c.ok());
    return std::move(*c);
  }
  bool topic_exists(const std::string& name) {
    auto n = connect().partition_count(name);
    return n.ok();
  }
  uint64_t records_in(const std::string& topic, uint32_t partitions) {
    client::Client c = connect();
    uint64_t total = 0;
    for (uint32_t p = 0; p < partitions; ++p) {
      auto end = c.latest_offset(topic, p);
      EXPECT_TRUE(end.ok());
      total += end.ok() ? *end : 0;
    }
    return total;
  }

  BrokerProcess broker_{{"--metrics-listen", "off"}};
  std::string addr_;
};

TEST_F(RustlogBenchTest, ProduceReportsEveryAcknowledgedRecordAndDeletesTheTopicItCreated) {
  json j = bench_json({"produce", "--records", "20000", "--partitions", "3", "--connections", "2"});
  EXPECT_EQ(j["records"], 20000);
  EXPECT_EQ(j["partitions"], 3);
  EXPECT_GT(j["records_per_sec"].get<double>(), 0);
  EXPECT_NEAR(j["mb_per_sec"].get<double>(),
              j["records_per_sec"].get<double>() * 100 / 1e6, 1e-6 * j["records_per_sec"].get<double>());
  EXPECT_FALSE(topic_exists("rustlog-bench"));
}

TEST_F(RustlogBenchTest, KeepLeavesExactlyTheProducedRecords) {
  json j = bench_json({"produce", "-n", "5001", "-p", "2", "-c", "3", "--topic", "kept", "--keep", "--value-bytes",
                       "1000"});
  EXPECT_EQ(j["records"], 5001);
  ASSERT_TRUE(topic_exists("kept"));
  EXPECT_EQ(records_in("kept", 2), 5001u);
  // Run again on the now existing topic: it is used as it is and not deleted.
  j = bench_json({"produce", "-n", "999", "--topic", "kept"});
  EXPECT_EQ(j["partitions"], 2);
  EXPECT_EQ(records_in("kept", 2), 6000u);
}

TEST_F(RustlogBenchTest, ConsumeReadsAnExistingTopicFromItsStartAndLeavesIt) {
  ASSERT_TRUE(connect().create_topic("orders", 3).ok());
  bench_json({"produce", "-n", "3000", "--topic", "orders", "-c", "3"});
  json j = bench_json({"consume", "--topic", "orders", "-c", "2"});
  EXPECT_EQ(j["records"], 3000);
  EXPECT_EQ(j["mode"], "consume");
  EXPECT_TRUE(topic_exists("orders"));
  // --records caps what is read.
  j = bench_json({"consume", "--topic", "orders", "--records", "1000", "--batch-bytes", "4096"});
  EXPECT_GE(j["records"].get<uint64_t>(), 1000u);
  EXPECT_LE(j["records"].get<uint64_t>(), 3000u);
}

TEST_F(RustlogBenchTest, ConsumeFillsATopicItCreatesThenReadsItAll) {
  json j = bench_json({"consume", "--records", "4000", "-p", "2"});
  EXPECT_EQ(j["records"], 4000);
  EXPECT_FALSE(topic_exists("rustlog-bench"));
}

TEST_F(RustlogBenchTest, EndToEndDeliversEveryRecordToAConsumer) {
  json j = bench_json({"e2e", "--records", "3000", "-c", "2", "-p", "2"});
  EXPECT_EQ(j["records"], 3000);
  EXPECT_EQ(j["latency_of"], "send() to the record's arrival at a consumer");
  EXPECT_GT(j["max_us"].get<double>(), 0);
}

TEST_F(RustlogBenchTest, DurationAndRateBoundTheRunAndAProgressLineIsPrintedEachSecond) {
  std::string err;
  json j = bench_json({"produce", "--duration", "2.5", "--rate", "2000"}, &err);
  EXPECT_GE(j["seconds"].get<double>(), 2.5);
  EXPECT_GT(j["records"].get<uint64_t>(), 0u);
  EXPECT_LE(j["records"].get<uint64_t>(), 5001u);  // the rate: at most 2,000 a second
  EXPECT_NE(err.find("bench produce: 1 s, "), std::string::npos) << err;
  EXPECT_NE(err.find("bench produce: 2 s, "), std::string::npos) << err;
  EXPECT_NE(err.find("rec/s"), std::string::npos) << err;
}

TEST_F(RustlogBenchTest, TheTableNamesWhatItMeasured) {
  RunResult r = bench({"produce", "-n", "100"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  for (const char* s : {"RECORDS", "RECORDS/S", "MB/S", "P50", "P99", "P999", "MAX", "send() to the record's"})
    EXPECT_NE(r.out.find(s), std::string::npos) << s << " in\n" << r.out;
}

TEST_F(RustlogBenchTest, ErrorsSayWhatWentWrong) {
  ASSERT_TRUE(connect().create_topic("three", 3).ok());
  RunResult r = bench({"produce", "--topic", "three", "--partitions", "2", "-n", "10"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("topic three exists with 3 partition(s)"), std::string::npos) << r.err;
  EXPECT_TRUE(topic_exists("three"));

  r = bench({"e2e", "--value-bytes", "4", "-n", "10"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("at least 8"), std::string::npos) << r.err;
  EXPECT_FALSE(topic_exists("rustlog-bench"));  // created for the run, deleted after the error

  r = bench({"produce", "--records", "10", "--duration", "1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("excludes"), std::string::npos) << r.err;

  r = bench({"produce", "-n", "10", "--broker", "127.0.0.1:1"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_NE(r.err.find("520 Transport"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace rustlog::test
