#pragma once
// What handling one request produced (Broker::handle). Most requests are
// answered at once; the others name what their answer waits for, and the
// connection's ordered queue (dispatcher.h) holds them until then:
//   Ready       - the answer frame
//   AwaitFlush  - the answer frame, sent once the ticket's log is durable up
//                 to the ticket's offset (group commit under flush = always)
//   LongPoll    - a FetchEx with nothing (or too little) to return yet:
//                 retried when its partition takes appends, answered with
//                 what there is at its deadline
//   FetchSlices - a legacy fetch read one slice per loop turn
#include <cstdint>
#include <memory>
#include <string>
#include <variant>

#include "protocol/fetch_v0.h"
#include "protocol/messages.h"

namespace rustlog {

class PartitionLog;

// A log's identity for the loop's queues: a number that is never reused (a
// topic deleted and re-created gets new logs and new ids), so nothing queued
// ever holds a pointer to a log that may be freed.
using LogId = uint64_t;

// "Durable once log `log` has flushed up to `end`."
struct FlushTicket {
  LogId log = 0;
  uint64_t end = 0;
};

// A legacy fetch between two slices (Broker::continue_fetch).
struct LegacyFetchState {
  LegacyFetchState(uint64_t offset, uint32_t max_bytes) : read_at(offset), batch_budget(max_bytes), enc(offset, max_bytes) {}
  std::string topic;
  uint32_t partition = 0;
  LogId log = 0;          // the log it reads (a topic deleted and re-created is another)
  uint64_t read_at;       // next offset to read from the log
  uint64_t batch_budget;  // batch bytes the answer may still read (max_bytes; the first batch always)
  bool first = true;
  bool handshaken = false;  // its connection had sent Handshake (which error codes it gets)
  protocol::FetchV0Encoder enc;
  std::string frame;
};

namespace outcome {
struct Ready {
  std::string frame;
};
struct AwaitFlush {
  std::string frame;
  FlushTicket ticket;
};
struct LongPoll {
  protocol::FetchExRequest request;
  LogId log = 0;
};
struct FetchSlices {
  std::unique_ptr<LegacyFetchState> state;
};
}  // namespace outcome

using Outcome = std::variant<outcome::Ready, outcome::AwaitFlush, outcome::LongPoll, outcome::FetchSlices>;

}  // namespace rustlog
