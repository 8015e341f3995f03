#pragma once
// One client connection as the event loop sees it: the frame decoder for
// what arrives, and the ordered response slots for what goes out. A slot is
// filled at once (most requests) or later (after a group-commit flush, or
// when a long-poll fetch completes); frames leave strictly in slot order, so
// clients may pipeline.
#include <cstdint>
#include <deque>
#include <string>

#include "protocol/frame.h"

namespace rustlog {

struct ResponseSlot {
  uint64_t seq = 0;
  bool ready = false;
  std::string frame;
};

struct Connection {
  Connection(uint64_t id_, int fd_, uint32_t max_frame) : id(id_), fd(fd_), decoder(max_frame) {}
  uint64_t id;
  int fd;
  protocol::FrameDecoder decoder;
  std::deque<ResponseSlot> slots;
  uint64_t next_seq = 0;
  std::string out;        // bytes being written
  size_t out_pos = 0;
  bool want_write = false;  // EPOLLOUT registered
  bool reading = true;      // EPOLLIN registered
  bool closing = false;     // close once everything queued is written
  bool dead = false;

  ResponseSlot& add_slot() {
    slots.push_back(ResponseSlot{next_seq++, false, {}});
    return slots.back();
  }
  ResponseSlot* slot(uint64_t seq) {
    if (slots.empty() || seq < slots.front().seq) return nullptr;
    const uint64_t i = seq - slots.front().seq;
    return i < slots.size() ? &slots[i] : nullptr;
  }
  size_t pending_out() const { return out.size() - out_pos; }
};

}  // namespace rustlog
