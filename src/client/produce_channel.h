#pragma once
// One connection carrying a Producer's batches: frames are written without
// waiting for answers (up to the Producer's max_in_flight), answers are read
// as they come, in request order (the broker answers a connection in order).
// Non-blocking: the Producer's I/O thread polls fd() and calls write_some()
// / read_some(). Used by that thread alone.
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/connection.h"
#include "client/record_accumulator.h"
#include "common/compression.h"

namespace rustlog::client {

class ProduceChannel {
 public:
  // Connects and sends a Handshake (learns the broker's frame limit and
  // whether it takes ProduceBatch). The frames are written as they are: the
  // Producer's compressor threads rebuild them as ProduceBatch beforehand
  // (producer_impl.h), when compression() says the broker takes them.
  static ClientResult<std::unique_ptr<ProduceChannel>> open(const BrokerAddress& address,
                                                            const ClientOptions& options,
                                                            const Compression& compression = {});

  int fd() const { return conn_.fd(); }
  const std::string& peer() const { return conn_.peer(); }
  // The largest frame both sides accept.
  uint32_t max_frame_bytes() const { return max_frame_bytes_; }
  // The Producer's compression if the broker takes ProduceBatch, else none.
  const Compression& compression() const { return compression_; }

  // Batches handed to the channel and not yet answered.
  size_t in_flight() const { return queue_.size(); }
  bool wants_write() const { return unwritten_ < queue_.size(); }
  bool awaiting_answer() const { return unwritten_ > 0; }

  void push(std::unique_ptr<ProducerBatch> batch);

  // Writes what the socket takes now. An error means the connection is dead.
  ClientStatus write_some();

  struct Answer {
    std::unique_ptr<ProducerBatch> batch;
    ClientResult<protocol::ProduceExResponse> result;
  };
  // Reads what has arrived; each complete answer resolves the oldest batch.
  // A broker Error frame is a failed Answer, not a channel error. An error
  // means the connection is dead.
  ClientStatus read_some(std::vector<Answer>& answers);

  // When the oldest batch sent without answer times out (request_timeout);
  // time_point::max() when nothing waits or the timeout is 0.
  Clock::time_point answer_deadline() const;

  // After a failure or at close: the batches at least partly written (their
  // outcome is unknown) and those never written (safe to send elsewhere).
  struct Leftovers {
    std::vector<std::unique_ptr<ProducerBatch>> sent, unsent;
  };
  Leftovers take_all();
  // The partition's batches not yet started on the wire (the connection stays).
  std::vector<std::unique_ptr<ProducerBatch>> take_unwritten(const std::string& topic, uint32_t partition);

 private:
  ProduceChannel(Connection conn, const ClientOptions& options, uint32_t max_frame_bytes, Compression compression);
  Connection conn_;
  std::chrono::milliseconds request_timeout_;
  uint32_t max_frame_bytes_;
  Compression compression_;  // kNone: ProduceEx frames as they are
  std::deque<std::unique_ptr<ProducerBatch>> queue_;  // [0, unwritten_) written, awaiting answers
  std::deque<Clock::time_point> written_at_;          // one per written batch
  size_t unwritten_ = 0;  // index of the first batch not completely written
  size_t write_off_ = 0;  // bytes of queue_[unwritten_] already written
  std::string rbuf_;
  size_t rpos_ = 0;
};

}  // namespace rustlog::client
