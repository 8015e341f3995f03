#pragma once
// The single thread that owns all broker state: an epoll loop over the
// listening socket, the client sockets and a signalfd.
//
// One turn: wait for events; read every readable connection and handle the
// complete frames in arrival order; then group commit: flush each log that
// took appends this turn once, and only then release the responses that
// waited for it; re-check long-poll fetches; write what is ready.
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "broker/broker.h"
#include "broker/connection.h"
#include "broker/parallel_flush.h"

namespace rustlog {

class EventLoop {
 public:
  explicit EventLoop(Broker& broker);
  ~EventLoop();

  // Binds the listener (port 0 picks an ephemeral port) and the signal fd.
  Status start();
  uint16_t port() const { return port_; }
  const std::string& bound_address() const { return bound_; }
  // Runs until SIGTERM/SIGINT; then stops accepting, finishes in-flight
  // requests, flushes and checkpoints. Returns the process exit code.
  int run();

 private:
  struct Pending {
    uint64_t conn;
    uint64_t seq;
    PartitionLog* log;
    uint8_t type;      // request type byte, for its latency metric
    int64_t start_ns;  // steady clock when its handling began
  };
  struct Parked {
    uint64_t conn;
    uint64_t seq;
    protocol::FetchExRequest req;
    int64_t deadline_ms;
    int64_t start_ns;
  };

  struct Fetching {  // a legacy fetch read a slice per turn
    uint64_t conn;
    uint64_t seq;
    std::unique_ptr<LegacyFetchState> state;
    uint8_t type;
    int64_t start_ns;
  };

  void accept_all();
  void on_readable(Connection& c);
  void handle_frames(Connection& c);
  void group_commit(int64_t now_ms);
  void check_parked(int64_t now_ms, bool force);
  void advance_fetches();
  // Puts an answer that was not ready in the turn its request arrived (a
  // finished legacy fetch or long poll) into its slot on `c`, when the slot
  // is still there, and records the request's latency.
  void answer_late(Connection& c, uint64_t seq, std::string frame, uint8_t type, int64_t start_ns);
  void flush_output(Connection& c);
  void update_interest(Connection& c);
  void close_connection(Connection& c);
  void sweep_closed();
  int timeout_ms(int64_t now_ms) const;

  Broker& broker_;
  int epfd_ = -1;
  int listen_fd_ = -1;
  int signal_fd_ = -1;
  uint16_t port_ = 0;
  std::string bound_;
  uint64_t next_conn_id_ = 1;
  std::unordered_map<uint64_t, std::unique_ptr<Connection>> conns_;
  std::vector<Pending> pending_;
  std::vector<PartitionLog*> dirty_;
  std::vector<Parked> parked_;
  std::vector<Fetching> fetching_;
  std::vector<uint64_t> touched_;  // connections with new output this turn
  ParallelFlusher flusher_;
  bool stopping_ = false;
  int64_t last_checkpoint_ms_ = 0;
};

}  // namespace rustlog
