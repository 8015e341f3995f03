// producer: writes keyed records with a header to a topic through
// client::Producer (batched, pipelined, one future per record) and prints
// where they landed.
//
//   build/release/examples/producer [--broker HOST:PORT] [--topic T] [--count N]
//
// Creates the topic (3 partitions) when it does not exist. Records with the
// same key go to the same partition (the Producer's key hash), so each
// customer's orders stay in order.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/producer.h"
#include "example_args.h"

using namespace rustlog;

int main(int argc, char** argv) {
  example::Args args(argc, argv, {{"topic", "example-orders"}, {"count", "100"}},
                     "usage: producer [--broker HOST:PORT] [--topic T] [--count N]\n");
  const std::string topic = args.get("topic");
  const long count = args.number("count");

  {
    // Topic admin goes through a Client; 409 (TopicExists) is fine: a second
    // run appends to the same topic.
    auto admin = client::Client::connect(args.get("broker"));
    if (!admin) return example::fail(admin.error());
    if (auto st = admin->create_topic(topic, 3); !st && st.error().code() != ErrorCode::kTopicExists)
      return example::fail(st.error());
  }

  client::ProducerOptions options;
  options.linger = std::chrono::milliseconds(10);  // wait up to 10 ms to fill a batch
  auto producer = client::Producer::connect(args.get("broker"), options);
  if (!producer) return example::fail(producer.error());
  std::printf("producing to %s on %s\n", topic.c_str(), producer->broker().c_str());

  // send() returns at once; the records travel in batches, one per partition.
  std::vector<client::SendFuture> sent;
  for (long i = 0; i < count; ++i) {
    std::string key = "customer-" + std::to_string(i % 7);
    std::string value = "order " + std::to_string(i) + " for " + key;
    sent.push_back(producer->send(topic, client::record(std::move(value), std::move(key), {{"source", "producer-example"}})));
  }
  // A callback instead of a future: it runs on the Producer's I/O thread.
  producer->send(topic, 0, client::record("end of run"), [](const client::ClientResult<client::RecordMetadata>& md) {
    if (md) std::printf("marker at %s/%u offset %llu\n", md->topic.c_str(), md->partition,
                        static_cast<unsigned long long>(md->offset));
  });
  if (auto st = producer->flush(); !st) return example::fail(st.error());  // every record answered

  std::map<uint32_t, std::pair<uint64_t, uint64_t>> ranges;  // partition -> first, last offset
  for (const auto& f : sent) {
    auto md = f.get();
    if (!md) return example::fail(md.error());
    auto [it, fresh] = ranges.try_emplace(md->partition, md->offset, md->offset);
    if (!fresh) it->second.second = md->offset;
  }
  for (const auto& [p, r] : ranges)
    std::printf("partition %u: offsets %llu..%llu\n", p, static_cast<unsigned long long>(r.first),
                static_cast<unsigned long long>(r.second));
  producer->close();
  std::printf("produced %ld keyed records and 1 marker to %s\n", count, topic.c_str());
  return 0;
}
