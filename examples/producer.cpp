// producer: writes keyed records with a header to a topic, several batches
// pipelined on one connection, and prints where they landed.
//
//   build/release/examples/producer [--broker HOST:PORT] [--topic T] [--count N]
//
// Creates the topic (3 partitions) when it does not exist. Records with the
// same key go to the same partition (client::partition_for_key), so each
// customer's orders stay in order.
#include <cstdio>
#include <map>
#include <string>

#include "client/client.h"
#include "example_args.h"

using namespace rustlog;

int main(int argc, char** argv) {
  example::Args args(argc, argv, {{"topic", "example-orders"}, {"count", "100"}},
                     "usage: producer [--broker HOST:PORT] [--topic T] [--count N]\n");
  const std::string topic = args.get("topic");
  const long count = args.number("count");

  auto c = client::Client::connect(args.get("broker"));
  if (!c) return example::fail(c.error());
  std::printf("connected to %s (%s)\n", c->broker().c_str(), c->server().server_version.c_str());

  // 409 (TopicExists) is fine: a second run appends to the same topic.
  if (auto st = c->create_topic(topic, 3); !st && st.error().code() != ErrorCode::kTopicExists)
    return example::fail(st.error());
  auto partitions = c->partition_count(topic);
  if (!partitions) return example::fail(partitions.error());

  // One batch per partition.
  std::map<uint32_t, std::vector<client::ProducerRecord>> batches;
  for (long i = 0; i < count; ++i) {
    std::string key = "customer-" + std::to_string(i % 7);
    std::string value = "order " + std::to_string(i) + " for " + key;
    const uint32_t p = client::partition_for_key(key, *partitions);
    batches[p].push_back(client::record(std::move(value), std::move(key), {{"source", "producer-example"}}));
  }

  // Pipelined: send every batch, then read the answers (in the same order).
  for (auto& [p, records] : batches) {
    protocol::ProduceExRequest req;
    req.topic = topic;
    req.partition = p;
    req.records = std::move(records);
    if (auto st = c->send_produce(std::move(req)); !st) return example::fail(st.error());
  }
  uint64_t total = 0;
  while (c->in_flight() > 0) {
    auto r = c->receive_produce();
    if (!r) return example::fail(r.error());
    total += r->record_count;
    std::printf("partition %u: %u records at offsets %llu..%llu\n", r->partition, r->record_count,
                static_cast<unsigned long long>(r->base_offset),
                static_cast<unsigned long long>(r->next_offset() - 1));
  }

  // A single synchronous produce, for comparison.
  auto one = c->produce(topic, 0, {client::record("end of run", std::nullopt)});
  if (!one) return example::fail(one.error());
  std::printf("produced %llu keyed records and 1 marker (offset %llu) to %s\n",
              static_cast<unsigned long long>(total), static_cast<unsigned long long>(one->base_offset),
              topic.c_str());
  return 0;
}
