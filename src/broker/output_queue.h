#pragma once
// A connection's answers on their way into the socket, in order, each still
// in the buffer it was built in: a large answer (a fetch of megabytes) is
// sent from there with sendmsg over several buffers at once, never copied
// into a shared output buffer nor moved forward in one as it drains. An
// answer's spliced values (common/splice.h) are sent straight from the
// segment mapping they point into, which their pins keep alive until then.
#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <string_view>

#include "common/splice.h"

namespace rustlog {

class OutputQueue {
 public:
  void push(std::string frame, Splices splices = {}) {
    const size_t size = frame.size() + spliced_bytes(splices);
    if (size == 0) return;
    bytes_ += size;
    frames_.push_back({std::move(frame), std::move(splices), size});
  }
  size_t pending() const { return bytes_; }
  size_t frames() const { return frames_.size(); }  // answers not yet wholly sent
  // Describes up to `max` buffers of the unsent bytes, in order, at most
  // `max_bytes` of them (at least one buffer's worth is never cut below
  // max_bytes: the last buffer may be shortened to it); returns how many.
  int fill(struct iovec* iov, int max, size_t max_bytes = SIZE_MAX) const {
    int n = 0;
    size_t skip = pos_;
    size_t room = max_bytes;
    for (auto it = frames_.begin(); it != frames_.end() && n < max && room > 0; ++it, skip = 0) {
      for_each_part(*it, [&](std::string_view part) {
        if (n >= max || room == 0) return false;
        if (skip >= part.size()) {
          skip -= part.size();
          return true;
        }
        part.remove_prefix(skip);
        skip = 0;
        if (part.size() > room) part = part.substr(0, room);
        iov[n].iov_base = const_cast<char*>(part.data());
        iov[n].iov_len = part.size();
        room -= part.size();
        ++n;
        return true;
      });
    }
    return n;
  }
  // `n` of the pending bytes were written (n <= pending()).
  void consume(size_t n) {
    bytes_ -= n;
    pos_ += n;
    while (!frames_.empty() && pos_ >= frames_.front().size) {
      pos_ -= frames_.front().size;
      frames_.pop_front();  // drops its pins: a mapping no answer holds is unmapped
    }
  }
  // The unsent bytes as one string (tests, which decode what would leave).
  std::string copy_pending() const {
    std::string s;
    s.reserve(bytes_);
    size_t skip = pos_;
    for (const auto& f : frames_) {
      s.append(flatten(f.own, f.splices), skip, std::string::npos);
      skip = 0;
    }
    return s;
  }

 private:
  struct Frame {
    std::string own;  // the answer's own bytes
    Splices splices;  // and what is sent from elsewhere between them
    size_t size;      // own.size() + the spliced bytes
  };
  // Calls part(view) for each contiguous piece of `f` in order (empty ones
  // skipped) until it returns false.
  template <class Part>
  static void for_each_part(const Frame& f, Part&& part) {
    const std::string_view own(f.own);
    size_t pos = 0;
    for (const Splice& s : f.splices) {
      if (s.at > pos && !part(own.substr(pos, s.at - pos))) return;
      pos = s.at;
      if (!s.bytes.empty() && !part(s.bytes)) return;
    }
    if (pos < own.size()) part(own.substr(pos));
  }

  std::deque<Frame> frames_;
  size_t pos_ = 0;    // bytes of frames_.front() already written
  size_t bytes_ = 0;  // unsent bytes in all
};

}  // namespace rustlog
