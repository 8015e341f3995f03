// Uses the installed client library end to end: create a topic, produce,
// consume with a group, commit, check the group's lag. Exit 0 when all is well.
#include <chrono>
#include <cstdio>
#include <string>

#include "client/backend.h"
#include "client/client.h"
#include "client/consumer.h"
#include "client/producer.h"

using namespace rustlog;

static int fail(const char* what, const client::ClientError& e) {
  std::fprintf(stderr, "%s: %s\n", what, e.to_string().c_str());
  return 1;
}

int main(int argc, char** argv) {
  const std::string broker = argc > 1 ? argv[1] : client::default_broker_address();
  auto c = client::Client::connect(broker);
  if (!c) return fail("connect", c.error());
  if (auto st = c->create_topic("package-test", 1); !st) return fail("create_topic", st.error());
  auto p = c->produce("package-test", 0,
                      {client::record("a", "k1"), client::record("b", "k2", {{"h", "x"}}), client::record("c")});
  if (!p) return fail("produce", p.error());

  client::ConsumerOptions o;
  o.group_id = "package-group";
  o.auto_offset_reset = client::OffsetReset::kEarliest;
  client::Consumer consumer(std::move(*c), o);
  if (auto st = consumer.subscribe("package-test"); !st) return fail("subscribe", st.error());
  std::string seen;
  while (seen.size() < 3) {
    auto recs = consumer.poll(std::chrono::seconds(5));
    if (!recs) return fail("poll", recs.error());
    if (recs->empty()) break;
    for (const auto& r : *recs) seen += r.value.value_or("?");
  }
  if (seen != "abc") {
    std::fprintf(stderr, "consumed '%s', expected 'abc'\n", seen.c_str());
    return 1;
  }
  if (auto st = consumer.commit(); !st) return fail("commit", st.error());
  auto g = consumer.client().describe_group("package-group");
  if (!g) return fail("describe_group", g.error());
  if (g->size() != 1 || (*g)[0].committed != 3 || (*g)[0].lag != 0) {
    std::fprintf(stderr, "unexpected group offsets\n");
    return 1;
  }
  // kafka:// reaches librdkafka exactly when the package gave rustlog::client_kafka:
  // nothing listens on port 1, so that is a transport error, not "no Kafka support".
#ifdef RUSTLOG_PACKAGE_KAFKA
  const bool kafka = true;
#else
  const bool kafka = false;
#endif
  client::ProducerOptions po;
  po.client.connect_timeout = std::chrono::milliseconds(1000);
  auto k = client::Producer::connect("kafka://127.0.0.1:1", po);
  if (k || client::kafka_supported() != kafka ||
      k.error().source() != (kafka ? client::ErrorSource::kTransport : client::ErrorSource::kClient))
    return std::fprintf(stderr, "kafka:// gave %s\n", k ? "a producer" : k.error().to_string().c_str()), 1;
  std::printf("package test OK: consumed %s, committed 3, kafka: %s\n", seen.c_str(), kafka ? "yes" : "no");
  return 0;
}
