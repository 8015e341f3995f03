// The client library (src/client: Client, Consumer, the metrics text parser)
// against a real kafka-lite.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "client/client.h"
#include "client/consumer.h"
#include "client/metrics_text.h"
#include "support/broker_process.h"

namespace rustlog::client {
namespace {

using namespace std::chrono_literals;
using test::BrokerProcess;

class ClientLibraryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(broker_.start());
    addr_ = "127.0.0.1:" + std::to_string(broker_.port());
  }
  Client connect() {
    auto c = Client::connect(addr_);
    if (!c) throw std::runtime_error(c.error().to_string());
    return std::move(*c);
  }
  void produce_values(Client& c, const std::string& topic, uint32_t partition, int from, int to) {
    std::vector<ProducerRecord> recs;
    for (int i = from; i < to; ++i) recs.push_back(record("v" + std::to_string(i)));
    auto r = c.produce(topic, partition, std::move(recs));
    ASSERT_TRUE(r) << r.error().to_string();
  }

  BrokerProcess broker_{{"--metrics-listen", "off"}};
  std::string addr_;
};

TEST(BrokerAddressTest, Parses) {
  auto a = parse_broker_address("example.org:1234");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "example.org");
  EXPECT_EQ(a->port, 1234);
  a = parse_broker_address("[::1]:9000");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->host, "::1");
  EXPECT_EQ(a->to_string(), "[::1]:9000");
  a = parse_broker_address("localhost");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->port, 9092);
  for (const char* bad : {"", ":9092", "h:", "h:0", "h:70000", "h:x", "::1:9092", "[::1"}) {
    auto b = parse_broker_address(bad);
    ASSERT_FALSE(b) << bad;
    EXPECT_EQ(b.error().source(), ErrorSource::kClient);
    EXPECT_EQ(b.error().code(), ErrorCode::kInvalidConfig);
  }
}

TEST(PartitionForKeyTest, IsStableFnv1a) {
  EXPECT_EQ(partition_for_key("", 7), 2166136261u % 7);
  EXPECT_EQ(partition_for_key("a", 1000), 0xe40c292cu % 1000);  // FNV-1a("a")
  EXPECT_EQ(partition_for_key("anything", 1), 0u);
  EXPECT_EQ(partition_for_key("anything", 0), 0u);
}

TEST_F(ClientLibraryTest, ConnectFailuresAreTransportErrors) {
  auto c = Client::connect("127.0.0.1:1");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().source(), ErrorSource::kTransport);
  EXPECT_EQ(c.error().code(), ErrorCode::kTransport);
  EXPECT_NE(c.error().message().find("cannot connect to 127.0.0.1:1"), std::string::npos) << c.error().message();
  auto bad = Client::connect("nope:nope");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().source(), ErrorSource::kClient);
}

TEST_F(ClientLibraryTest, BrokerErrorsCarryTheBrokersCodeAndMessage) {
  Client c = connect();
  EXPECT_FALSE(c.server().server_version.empty());
  EXPECT_GT(c.server().max_frame_bytes, 0u);
  ASSERT_TRUE(c.ping());

  auto d = c.describe_topic("missing");
  ASSERT_FALSE(d);
  EXPECT_TRUE(d.error().from_broker());
  EXPECT_EQ(d.error().code(), ErrorCode::kTopicNotFound);
  EXPECT_EQ(d.error().message(), "topic 'missing' does not exist");
  EXPECT_NE(d.error().to_string().find("404"), std::string::npos);

  ASSERT_TRUE(c.create_topic("t", 2));
  auto again = c.create_topic("t", 2);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code(), ErrorCode::kTopicExists);
  auto badcfg = c.create_topic("u", 1, {{"no.such", "1"}});
  ASSERT_FALSE(badcfg);
  EXPECT_EQ(badcfg.error().code(), ErrorCode::kInvalidRequest);

  produce_values(c, "t", 0, 0, 3);
  auto f = c.fetch("t", 0, 9);
  ASSERT_FALSE(f);
  EXPECT_EQ(f.error().code(), ErrorCode::kOffsetOutOfRange);
  auto commit = c.commit_offset("g", "t", 0, 4);
  ASSERT_FALSE(commit);
  EXPECT_EQ(commit.error().code(), ErrorCode::kOffsetOutOfRange);
  auto p = c.produce("t", 5, {record("x")});
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code(), ErrorCode::kPartitionNotFound);
  // The connection stays usable after broker errors.
  EXPECT_TRUE(c.ping());

  // value_or_throw raises ClientException with the error inside.
  try {
    (void)c.describe_topic("missing").value_or_throw();
    FAIL() << "no exception";
  } catch (const ClientException& e) {
    EXPECT_EQ(e.error().code(), ErrorCode::kTopicNotFound);
  }
}

TEST_F(ClientLibraryTest, ProduceFetchKeysHeadersTombstonesAndOffsets) {
  Client c = connect();
  ASSERT_TRUE(c.create_topic("t", 1));
  ProducerRecord tomb;
  tomb.key = "k";  // value null: a tombstone
  auto r = c.produce("t", 0, {record("v0", "k", {{"h", "1"}, {"h", "2"}}), record("", std::nullopt), tomb});
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->base_offset, 0u);
  EXPECT_EQ(r->record_count, 3u);
  EXPECT_EQ(r->next_offset(), 3u);
  EXPECT_GT(r->append_time_us, 0);

  auto f = c.fetch("t", 0, 0);
  ASSERT_TRUE(f) << f.error().to_string();
  EXPECT_EQ(f->high_watermark, 3u);
  EXPECT_EQ(f->next_offset, 3u);
  ASSERT_EQ(f->records.size(), 3u);
  EXPECT_EQ(f->records[0].key, "k");
  EXPECT_EQ(f->records[0].value, "v0");
  ASSERT_EQ(f->records[0].headers.size(), 2u);
  EXPECT_EQ(f->records[0].headers[1].value, "2");
  EXPECT_FALSE(f->records[1].key.has_value());
  EXPECT_EQ(f->records[1].value, "");
  EXPECT_FALSE(f->records[2].value.has_value());
  EXPECT_EQ(f->records[2].timestamp_us, r->append_time_us);

  EXPECT_EQ(*c.earliest_offset("t", 0), 0u);
  EXPECT_EQ(*c.latest_offset("t", 0), 3u);
  auto at = c.offset_for_time("t", 0, r->append_time_us);
  ASSERT_TRUE(at);
  EXPECT_TRUE(at->found);
  EXPECT_EQ(at->offset, 0u);
  auto late = c.offset_for_time("t", 0, r->append_time_us + 3'600'000'000);
  ASSERT_TRUE(late);
  EXPECT_FALSE(late->found);
  EXPECT_EQ(late->offset, 3u);

  // Explicit batch timestamp.
  auto ts = c.produce("t", 0, {record("old")}, 1'000'000);
  ASSERT_TRUE(ts);
  auto f2 = c.fetch("t", 0, 3);
  ASSERT_TRUE(f2);
  ASSERT_EQ(f2->records.size(), 1u);
  EXPECT_EQ(f2->records[0].timestamp_us, 1'000'000);

  EXPECT_FALSE(c.produce("t", 0, {}));  // nothing to send
}

TEST_F(ClientLibraryTest, PipelinedProducesAnswerInOrder) {
  Client c = connect();
  ASSERT_TRUE(c.create_topic("t", 2));
  for (int i = 0; i < 20; ++i) {
    protocol::ProduceExRequest req;
    req.topic = "t";
    req.partition = static_cast<uint32_t>(i % 2);
    for (int j = 0; j < 10; ++j) req.records.push_back(record(std::to_string(i * 10 + j)));
    ASSERT_TRUE(c.send_produce(std::move(req)));
  }
  EXPECT_EQ(c.in_flight(), 20u);
  // Other calls must wait until the answers are read.
  auto blocked = c.list_topics();
  ASSERT_FALSE(blocked);
  EXPECT_EQ(blocked.error().source(), ErrorSource::kClient);
  uint64_t next[2] = {0, 0};
  for (int i = 0; i < 20; ++i) {
    auto r = c.receive_produce();
    ASSERT_TRUE(r) << r.error().to_string();
    EXPECT_EQ(r->partition, static_cast<uint32_t>(i % 2));
    EXPECT_EQ(r->base_offset, next[i % 2]);
    next[i % 2] = r->next_offset();
  }
  EXPECT_EQ(c.in_flight(), 0u);
  EXPECT_FALSE(c.receive_produce());
  EXPECT_EQ(*c.latest_offset("t", 0), 100u);

  // A pipelined request the broker refuses: the error names topic/partition,
  // the answers around it are unaffected.
  ASSERT_TRUE(c.send_produce({"t", 0, -1, {record("a")}}));
  ASSERT_TRUE(c.send_produce({"t", 9, -1, {record("b")}}));
  ASSERT_TRUE(c.send_produce({"t", 1, -1, {record("c")}}));
  EXPECT_TRUE(c.receive_produce());
  auto bad = c.receive_produce();
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code(), ErrorCode::kPartitionNotFound);
  EXPECT_NE(bad.error().message().find("t/9"), std::string::npos);
  EXPECT_TRUE(c.receive_produce());
}

TEST_F(ClientLibraryTest, AdminRequests) {
  Client c = connect();
  ASSERT_TRUE(c.create_topic("a", 3, {{"retention.ms", "1000"}}));
  ASSERT_TRUE(c.create_topic("b", 1));
  auto l = c.list_topics();
  ASSERT_TRUE(l);
  ASSERT_EQ(l->size(), 2u);
  EXPECT_EQ((*l)[0].name, "a");
  EXPECT_EQ((*l)[0].partitions, 3u);
  auto d = c.describe_topic("a");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->partition_count, 3u);
  EXPECT_EQ(d->partitions.size(), 3u);
  bool found = false;
  for (const auto& e : d->configs) found |= e.key == "retention.ms" && e.value == "1000";
  EXPECT_TRUE(found);
  EXPECT_EQ(*c.partition_count("a"), 3u);

  produce_values(c, "b", 0, 0, 5);
  ASSERT_TRUE(c.commit_offset("g1", "b", 0, 2));
  EXPECT_EQ(*c.committed_offset("g1", "b", 0), std::optional<uint64_t>(2));
  EXPECT_EQ(*c.committed_offset("g2", "b", 0), std::nullopt);
  auto groups = c.list_groups();
  ASSERT_TRUE(groups);
  EXPECT_EQ(*groups, std::vector<std::string>{"g1"});
  auto g = c.describe_group("g1");
  ASSERT_TRUE(g);
  ASSERT_EQ(g->size(), 1u);
  EXPECT_EQ((*g)[0].committed, 2u);
  EXPECT_EQ((*g)[0].high_watermark, 5u);
  EXPECT_EQ((*g)[0].lag, 3u);
  ASSERT_TRUE(c.delete_group("g1"));
  EXPECT_EQ(c.describe_group("g1").error().code(), ErrorCode::kGroupNotFound);
  ASSERT_TRUE(c.delete_topic("a"));
  EXPECT_EQ(c.list_topics()->size(), 1u);

  auto raw = c.call(protocol::DescribePartitionRequest{"b", 0});
  ASSERT_TRUE(raw);
  EXPECT_EQ(std::get<protocol::DescribePartitionResponse>(*raw).high_watermark, 5u);
  auto m = c.metrics_text();
  ASSERT_TRUE(m);
  EXPECT_NE(m->find("rustlog_requests_total"), std::string::npos);
}

TEST_F(ClientLibraryTest, TransportFailureThenReconnect) {
  Client c = connect();
  ASSERT_TRUE(c.ping());
  ASSERT_TRUE(broker_.restart());  // new port: point a fresh client at it
  auto r = c.ping();
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().source(), ErrorSource::kTransport);
  EXPECT_EQ(r.error().code(), ErrorCode::kTransport);
  EXPECT_FALSE(c.connected());
  EXPECT_FALSE(c.ping());  // stays failed until reconnect()
  Client c2 = *Client::connect("127.0.0.1:" + std::to_string(broker_.port()));
  EXPECT_TRUE(c2.ping());
  EXPECT_TRUE(c2.reconnect());
  EXPECT_TRUE(c2.ping());
}

TEST_F(ClientLibraryTest, ConsumerResumesFromTheGroupsCommittedOffset) {
  Client p = connect();
  ASSERT_TRUE(p.create_topic("t", 2));
  produce_values(p, "t", 0, 0, 10);
  produce_values(p, "t", 1, 10, 15);

  ConsumerOptions o;
  o.group_id = "g";
  o.auto_offset_reset = OffsetReset::kEarliest;
  o.max_poll_records = 4;
  {
    auto c = Consumer::connect(addr_, o);
    ASSERT_TRUE(c);
    ASSERT_TRUE(c->subscribe("t"));
    auto recs = c->poll(1s);
    ASSERT_TRUE(recs);
    ASSERT_EQ(recs->size(), 4u);  // max_poll_records
    ASSERT_TRUE(c->commit());
    auto more = c->poll(1s, 2);   // read but not committed
    ASSERT_TRUE(more);
    EXPECT_EQ(more->size(), 2u);
    EXPECT_EQ(c->uncommitted(), 2u);
  }
  auto g = p.describe_group("g");
  ASSERT_TRUE(g);
  uint64_t committed = 0;
  for (const auto& x : *g) committed += x.committed;
  EXPECT_EQ(committed, 4u);

  // A new consumer of the group reads everything after the commit exactly once.
  auto c = Consumer::connect(addr_, o);
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->subscribe("t"));
  std::multiset<std::string> seen;
  for (;;) {
    auto recs = c->poll(300ms);
    ASSERT_TRUE(recs);
    if (recs->empty()) break;
    for (const auto& r : *recs) {
      EXPECT_EQ(r.topic, "t");
      seen.insert(*r.value);
    }
  }
  EXPECT_EQ(seen.size(), 11u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()).size(), 11u);
  ASSERT_TRUE(c->commit());
  EXPECT_EQ(c->position(0), std::optional<uint64_t>(10));
  EXPECT_EQ(c->position(1), std::optional<uint64_t>(5));
  auto after = p.describe_group("g");
  ASSERT_TRUE(after);
  for (const auto& x : *after) EXPECT_EQ(x.lag, 0u);
}

TEST_F(ClientLibraryTest, ConsumerOffsetResetPolicies) {
  Client p = connect();
  ASSERT_TRUE(p.create_topic("t", 1));
  produce_values(p, "t", 0, 0, 5);

  ConsumerOptions latest;
  latest.group_id = "fresh";
  auto c = Consumer::connect(addr_, latest);  // default reset: latest
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->assign("t", {0}));
  auto none_yet = c->poll(50ms);
  ASSERT_TRUE(none_yet);
  EXPECT_TRUE(none_yet->empty());
  EXPECT_EQ(c->position(0), std::optional<uint64_t>(5));

  ConsumerOptions strict;
  strict.group_id = "strict";
  strict.auto_offset_reset = OffsetReset::kNone;
  auto s = Consumer::connect(addr_, strict);
  ASSERT_TRUE(s);
  ASSERT_TRUE(s->assign("t", {0}));
  auto err = s->poll(50ms);
  ASSERT_FALSE(err);
  EXPECT_EQ(err.error().code(), ErrorCode::kOffsetOutOfRange);

  // A position past the end (416 from the broker) is reset per the policy.
  ConsumerOptions early;
  early.auto_offset_reset = OffsetReset::kEarliest;
  auto e = Consumer::connect(addr_, early);
  ASSERT_TRUE(e);
  ASSERT_TRUE(e->assign("t", {0}));
  ASSERT_TRUE(e->seek(0, 1000));
  auto recs = e->poll(1s);
  ASSERT_TRUE(recs) << recs.error().to_string();
  ASSERT_FALSE(recs->empty());
  EXPECT_EQ(recs->front().offset, 0u);
  EXPECT_FALSE(e->commit());  // no group
  EXPECT_FALSE(e->seek(3, 0));  // not assigned

  auto t = Consumer::connect(addr_, early);
  ASSERT_TRUE(t);
  EXPECT_FALSE(t->poll(10ms));  // nothing assigned
  EXPECT_FALSE(t->subscribe("missing"));
  ASSERT_TRUE(t->subscribe("t"));
  ASSERT_TRUE(t->seek_to_end());
  EXPECT_TRUE(t->poll(10ms)->empty());
  ASSERT_TRUE(t->seek_to_time(0));
  EXPECT_EQ(t->poll(1s)->front().offset, 0u);
}

TEST_F(ClientLibraryTest, ConsumerAutoCommitsEveryNRecords) {
  Client p = connect();
  ASSERT_TRUE(p.create_topic("t", 1));
  produce_values(p, "t", 0, 0, 10);
  ConsumerOptions o;
  o.group_id = "auto";
  o.auto_offset_reset = OffsetReset::kEarliest;
  o.auto_commit_every = 3;
  auto c = Consumer::connect(addr_, o);
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->subscribe("t"));
  ASSERT_EQ(c->poll(1s, 2)->size(), 2u);
  ASSERT_EQ(c->poll(1s, 2)->size(), 2u);  // 2 < 3 before this poll: no commit yet
  EXPECT_EQ(*p.committed_offset("auto", "t", 0), std::nullopt);
  ASSERT_EQ(c->poll(1s, 1)->size(), 1u);  // 4 >= 3: commits 4 first
  EXPECT_EQ(*p.committed_offset("auto", "t", 0), std::optional<uint64_t>(4));
  ASSERT_TRUE(c->close());  // commits the rest
  EXPECT_EQ(*p.committed_offset("auto", "t", 0), std::optional<uint64_t>(5));
}

TEST_F(ClientLibraryTest, ConsumerLongPollsForNewRecords) {
  Client p = connect();
  ASSERT_TRUE(p.create_topic("t", 1));
  ConsumerOptions o;
  o.auto_offset_reset = OffsetReset::kLatest;
  o.max_wait = 5000ms;
  auto c = Consumer::connect(addr_, o);
  ASSERT_TRUE(c);
  ASSERT_TRUE(c->subscribe("t"));
  ASSERT_TRUE(c->resolve_positions());

  // Nothing arrives: poll returns empty after about its timeout.
  auto t0 = std::chrono::steady_clock::now();
  auto none = c->poll(300ms);
  auto waited = std::chrono::steady_clock::now() - t0;
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  EXPECT_GE(waited, 250ms);
  EXPECT_LT(waited, 3000ms);

  // A record produced while the poll waits wakes it early.
  std::thread producer([&] {
    std::this_thread::sleep_for(300ms);
    Client q = *Client::connect(addr_);
    (void)q.produce("t", 0, {record("late")});
  });
  t0 = std::chrono::steady_clock::now();
  auto got = c->poll(10s);
  waited = std::chrono::steady_clock::now() - t0;
  producer.join();
  ASSERT_TRUE(got) << got.error().to_string();
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ(got->front().value, "late");
  EXPECT_LT(waited, 4000ms);
}

TEST(MetricsTextTest, ParsesFamiliesLabelsAndHistograms) {
  const std::string text =
      "# HELP a_total Things \\\\ done.\n"
      "# TYPE a_total counter\n"
      "a_total{kind=\"x\\\"y\",n=\"1\"} 3\n"
      "a_total{kind=\"z\"} 4 1700000000000\n"
      "# TYPE lat_seconds histogram\n"
      "lat_seconds_bucket{le=\"0.1\"} 1\n"
      "lat_seconds_bucket{le=\"1\"} 3\n"
      "lat_seconds_bucket{le=\"+Inf\"} 4\n"
      "lat_seconds_sum 2.5\n"
      "lat_seconds_count 4\n"
      "untyped_one 1.5e3\n"
      "\n"
      "# a plain comment\n";
  auto f = parse_prometheus_text(text);
  ASSERT_TRUE(f) << f.error().to_string();
  ASSERT_EQ(f->size(), 3u);
  EXPECT_EQ((*f)[0].name, "a_total");
  EXPECT_EQ((*f)[0].type, "counter");
  EXPECT_EQ((*f)[0].help, "Things \\ done.");
  ASSERT_EQ((*f)[0].samples.size(), 2u);
  EXPECT_EQ((*f)[0].samples[0].label("kind"), "x\"y");
  EXPECT_EQ((*f)[0].samples[1].value, 4);
  EXPECT_EQ((*f)[1].samples.size(), 5u);
  EXPECT_EQ((*f)[2].name, "untyped_one");
  EXPECT_EQ((*f)[2].type, "untyped");
  EXPECT_EQ((*f)[2].samples[0].value, 1500);

  auto h = summarize_histogram((*f)[1]);
  ASSERT_EQ(h.size(), 1u);
  EXPECT_EQ(h[0].count, 4);
  EXPECT_EQ(h[0].sum, 2.5);
  EXPECT_NEAR(*h[0].quantile(0.5), 0.55, 1e-9);  // rank 2: halfway through (0.1, 1]
  EXPECT_EQ(*h[0].quantile(1.0), 1.0);           // in +Inf: the last finite bound

  EXPECT_FALSE(parse_prometheus_text("name{x=\"open} 1\n"));
  EXPECT_FALSE(parse_prometheus_text("name notanumber\n"));
  EXPECT_FALSE(parse_prometheus_text("{} 1\n"));
}

TEST_F(ClientLibraryTest, ParsesTheBrokersMetrics) {
  Client c = connect();
  auto text = c.metrics_text();
  ASSERT_TRUE(text);
  auto f = parse_prometheus_text(*text);
  ASSERT_TRUE(f) << f.error().to_string();
  bool histogram = false;
  for (const auto& fam : *f) {
    EXPECT_FALSE(fam.name.empty());
    if (fam.type == "histogram" && !fam.samples.empty()) histogram |= !summarize_histogram(fam).empty();
  }
  EXPECT_TRUE(histogram);
}

}  // namespace
}  // namespace rustlog::client
