// consumer: reads a topic as a member of a consumer group, commits after each
// batch, and stops when it has caught up. Run it twice: the second run
// resumes where the first left off (and reads nothing when nothing is new).
//
//   build/release/examples/consumer [--broker HOST:PORT] [--topic T] [--group G] [--max N]
//
// A group with no committed offset starts at the earliest offset
// (auto_offset_reset = earliest). --max stops after N records (0 = no limit).
#include <chrono>
#include <cstdio>
#include <string>

#include "client/consumer.h"
#include "example_args.h"

using namespace rustlog;

int main(int argc, char** argv) {
  example::Args args(argc, argv, {{"topic", "example-orders"}, {"group", "example-group"}, {"max", "0"}},
                     "usage: consumer [--broker HOST:PORT] [--topic T] [--group G] [--max N]\n");
  const uint64_t max = static_cast<uint64_t>(args.number("max"));

  client::ConsumerOptions options;
  options.group_id = args.get("group");
  options.auto_offset_reset = client::OffsetReset::kEarliest;
  options.max_wait = std::chrono::milliseconds(200);  // long-poll per fetch
  auto consumer = client::Consumer::connect(args.get("broker"), options);
  if (!consumer) return example::fail(consumer.error());
  if (auto st = consumer->subscribe(args.get("topic")); !st) return example::fail(st.error());

  uint64_t consumed = 0;
  for (;;) {
    const size_t want = max == 0 ? 0 : static_cast<size_t>(max - consumed);
    // Waits up to 500 ms for records; an empty answer means we are caught up.
    auto records = consumer->poll(std::chrono::milliseconds(500), want);
    if (!records) return example::fail(records.error());
    if (records->empty()) break;
    for (const auto& r : *records) {
      std::printf("%s/%u@%llu key=%s value=%s\n", r.topic.c_str(), r.partition,
                  static_cast<unsigned long long>(r.offset), r.key.value_or("(none)").c_str(),
                  r.value.value_or("(null)").c_str());
    }
    consumed += records->size();
    // Commit after handling: a crash before this line repeats the batch, never skips it.
    if (auto st = consumer->commit(); !st) return example::fail(st.error());
    if (max != 0 && consumed >= max) break;
  }
  std::printf("consumed %llu records as group %s; next offsets:", static_cast<unsigned long long>(consumed),
              options.group_id.c_str());
  for (const auto& p : consumer->positions())
    std::printf(" %u=%llu", p.partition, static_cast<unsigned long long>(p.position.value_or(0)));
  std::printf("\n");
  return 0;
}
