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
//   FetchSlices - a fetch (legacy or FetchEx) read one slice per loop turn
//   AdminSteps  - a topic create or delete done in bounded steps, one per
//                 loop turn (Broker::admin_step answers it)
//   Staged      - a produce whose batch waits to be written with the other
//                 produces of the group (Broker::write_group gives its
//                 Ready or AwaitFlush outcome, or its error)
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>

#include "common/splice.h"
#include "protocol/fetch_ex.h"
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

// A FetchEx's own part of a fetch read in slices: what it asked for, its
// encoder, and what the reads so far reported.
struct FetchExPart {
  explicit FetchExPart(protocol::FetchExRequest r) : request(std::move(r)) {}
  protocol::FetchExRequest request;
  protocol::FetchExEncoder enc;
  uint64_t read_bytes = 0;   // stored bytes read so far
  uint64_t next_offset = 0;  // after the last batch read
  uint64_t high_watermark = 0;
  uint64_t log_start_offset = 0;
  // The records read would not fit in a frame: the rest is only counted,
  // and the answer is the first batch alone (as one read would have it).
  bool overflow = false;
};

// A fetch between two slices (Broker::continue_fetch): a legacy Fetch
// (v0 set) or a FetchEx (ex set), read one slice per event-loop turn.
struct FetchState {
  FetchState(uint64_t offset, uint32_t max_bytes) : read_at(offset), batch_budget(max_bytes) {}
  std::string topic;
  uint32_t partition = 0;
  LogId log = 0;          // the log it reads (a topic deleted and re-created is another)
  uint64_t read_at;       // next offset to read from the log
  uint64_t batch_budget;  // batch bytes the answer may still read (max_bytes; the first batch always)
  bool first = true;
  bool handshaken = false;  // its connection had sent Handshake (which error codes it gets)
  std::optional<protocol::FetchV0Encoder> v0;
  std::optional<FetchExPart> ex;
  std::string frame;
  Splices splices;  // values of `frame` sent from segment mappings (the encoder's splice_into)
};

namespace outcome {
struct Ready {
  std::string frame;
  Splices splices = {};  // a fetch answer's values sent from segment mappings (common/splice.h)
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
  std::unique_ptr<FetchState> state;
};
struct AdminSteps {
  uint64_t job = 0;  // Broker::admin_step answers it
};
struct Staged {
  uint64_t answer_bytes = 0;  // the size of its answer once written
  bool awaits_flush = false;  // its answer will wait for a flush (flush = always)
};
}  // namespace outcome

using Outcome =
    std::variant<outcome::Ready, outcome::AwaitFlush, outcome::LongPoll, outcome::FetchSlices, outcome::Staged,
                 outcome::AdminSteps>;

}  // namespace rustlog
