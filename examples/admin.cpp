// admin: creates a topic with settings, lists topics, describes one, and
// shows how a broker error looks (code + message).
//
//   build/release/examples/admin [--broker HOST:PORT] [--topic T]
#include <cstdio>
#include <string>

#include "client/client.h"
#include "example_args.h"

using namespace rustlog;

int main(int argc, char** argv) {
  example::Args args(argc, argv, {{"topic", "example-admin"}},
                     "usage: admin [--broker HOST:PORT] [--topic T]\n");
  const std::string topic = args.get("topic");
  auto c = client::Client::connect(args.get("broker"));
  if (!c) return example::fail(c.error());

  // Create (with per-topic settings); an existing topic answers 409.
  auto created = c->create_topic(topic, 2, {{"retention.ms", "3600000"}, {"segment.bytes", "1048576"}});
  if (created) std::printf("created %s\n", topic.c_str());
  else if (created.error().code() == ErrorCode::kTopicExists) std::printf("%s already exists\n", topic.c_str());
  else return example::fail(created.error());

  auto topics = c->list_topics();
  if (!topics) return example::fail(topics.error());
  std::printf("%zu topics:\n", topics->size());
  for (const auto& t : *topics) std::printf("  %s (%u partitions)\n", t.name.c_str(), t.partitions);

  auto d = c->describe_topic(topic);
  if (!d) return example::fail(d.error());
  std::printf("%s:\n", d->name.c_str());
  for (const auto& p : d->partitions)
    std::printf("  partition %u: offsets %llu..%llu, %u segments, %llu bytes\n", p.partition,
                static_cast<unsigned long long>(p.log_start_offset), static_cast<unsigned long long>(p.high_watermark),
                p.segment_count, static_cast<unsigned long long>(p.size_bytes));
  for (const auto& e : d->configs) std::printf("  %s = %s\n", e.key.c_str(), e.value.c_str());

  // Errors carry the broker's code and message.
  auto missing = c->describe_topic("no-such-topic");
  if (missing) return 1;
  std::printf("describing a missing topic: %u %s (%s)\n", missing.error().code_number(),
              error_code_name(missing.error().code()), missing.error().message().c_str());
  return 0;
}
