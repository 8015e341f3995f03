#pragma once
// The single thread that owns all broker state: an edge-triggered epoll
// loop over the listening socket, the client sockets and a signalfd. It
// moves bytes between sockets and the Dispatcher (dispatcher.h), which owns
// what happens to requests; this file knows sockets only.
//
// One turn: wait for events (or not at all, when a connection still has
// requests or a fetch has slices left); serve each connection with work in
// rotation, reading and handling at most --max-requests-per-turn of its
// requests; end the turn (group commit, deferred replies); write what is
// ready (at most kMaxWritePerTurn bytes to each connection and --max-turn-write-bytes
// to all of them, short answers exempt: clients reading as fast as they can
// get the rest in the next turns, after the others);
// close what is finished. A turn costs in proportion to the connections with
// work, not to all connections.
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

#include "broker/broker.h"
#include "broker/dispatcher.h"

namespace rustlog {

class EventLoop {
 public:
  explicit EventLoop(Broker& broker);
  ~EventLoop();

  // Binds the listener (port 0 picks an ephemeral port) and the signal fd.
  Status start();
  uint16_t port() const { return port_; }
  const std::string& bound_address() const { return bound_; }
  // Runs until SIGTERM/SIGINT; then stops reading, answers what is ready
  // within --shutdown-timeout-ms, flushes and checkpoints. Returns the
  // process exit code.
  int run();

 private:
  void handle_events(int timeout_ms);
  void accept_all();
  // Reads and handles c's requests within its turn budget; true if it still
  // has work for another turn.
  bool serve(Connection& c, const TurnClock& clock);
  void make_ready(uint64_t id);
  void flush_output(Connection& c);
  void close_finished();
  void finish_turn(const TurnClock& clock);
  int timeout_ms(const TurnClock& clock) const;

  Broker& broker_;
  Dispatcher dispatcher_;
  int epfd_ = -1;
  int listen_fd_ = -1;
  int signal_fd_ = -1;
  int reserve_fd_ = -1;          // spare descriptor: accept-and-close a client when none is left
  int64_t accept_paused_until_ = 0;
  int64_t fd_log_next_ms_ = 0;   // rate limit of the out-of-descriptors log line
  uint16_t port_ = 0;
  std::string bound_;
  uint64_t next_conn_id_ = 1;
  std::deque<uint64_t> ready_;   // connections with requests or input to serve, in rotation
  std::vector<uint64_t> again_;  // served to the end of their turn with work left: next turn, after the newly ready
  std::vector<uint64_t> write_again_;  // wrote kMaxWritePerTurn this turn with more to send: next turn
  uint64_t turn_ = 0;
  size_t turn_written_ = 0;  // bytes sent to all connections in this turn
  bool stopping_ = false;
  int64_t last_checkpoint_ms_ = 0;
};

}  // namespace rustlog
