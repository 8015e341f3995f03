#pragma once
// The Producer tests' fixture: a real kafka-lite with --flush always, and
// helpers to create topics, connect Producers and read a partition back.
#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/producer.h"
#include "support/broker_calls.h"
#include "support/broker_process.h"

namespace rustlog::test {

// Every future is resolved, and once a record of a partition failed no later
// one of it succeeded; counts the acknowledged records per partition.
inline void expect_prefix_per_partition(const std::vector<client::SendFuture>& fs,
                                        const std::vector<uint32_t>& partitions, std::map<uint32_t, size_t>* acked) {
  std::map<uint32_t, bool> failed_seen;
  for (size_t i = 0; i < fs.size(); ++i) {
    ASSERT_TRUE(fs[i].ready()) << i;
    auto md = fs[i].get();
    const uint32_t part = partitions[i];
    if (md) {
      EXPECT_FALSE(failed_seen[part]) << "record " << i << " of partition " << part << " succeeded after a failure";
      ++(*acked)[part];
    } else {
      failed_seen[part] = true;
    }
  }
}

class ProducerFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(broker_.start());
    addr_ = "127.0.0.1:" + std::to_string(broker_.port());
  }
  client::Client admin() {
    auto c = client::Client::connect(addr_);
    if (!c) throw std::runtime_error(c.error().to_string());
    return std::move(*c);
  }
  void create(const std::string& topic, uint32_t partitions) {
    auto st = admin().create_topic(topic, partitions);
    ASSERT_TRUE(st) << st.error().to_string();
  }
  client::Producer producer(client::ProducerOptions o = {}) {
    auto p = client::Producer::connect(addr_, std::move(o));
    if (!p) throw std::runtime_error(p.error().to_string());
    return std::move(*p);
  }
  std::vector<Record> read_all(const std::string& topic, uint32_t partition) {
    client::Client c = admin();
    std::vector<Record> out;
    uint64_t at = 0;
    for (;;) {
      auto f = c.fetch(topic, partition, at);
      if (!f) throw std::runtime_error(f.error().to_string());
      if (f->records.empty()) return out;
      for (auto& r : f->records) out.push_back(std::move(r));
      at = f->next_offset;
    }
  }

  // Sends `n` records to partition 0 of `topic` (value(i) each), deleting the
  // topic once the first is answered and 5,001 are sent; flushes, then checks
  // the failure rule and that the last record failed with 404.
  template <class Value>
  void send_through_a_topic_delete(client::Producer& p, const std::string& topic, int n, Value value) {
    client::Client c = admin();
    std::vector<client::SendFuture> fs;
    std::vector<uint32_t> parts;
    for (int i = 0; i < n; ++i) {
      fs.push_back(p.send(topic, client::record(value(i))));
      parts.push_back(0);
      if (i == 5000) {
        ASSERT_TRUE(fs[0].wait_for(scaled(std::chrono::seconds(30))));
        ASSERT_TRUE(c.delete_topic(topic));
      }
    }
    ASSERT_TRUE(p.flush(scaled(std::chrono::seconds(60))));
    std::map<uint32_t, size_t> acked;
    expect_prefix_per_partition(fs, parts, &acked);
    auto last = fs.back().get();
    ASSERT_FALSE(last);
    EXPECT_EQ(last.error().code(), ErrorCode::kTopicNotFound);
  }

  BrokerProcess broker_{{"--metrics-listen", "off", "--flush", "always"}};
  std::string addr_;
};

}  // namespace rustlog::test
