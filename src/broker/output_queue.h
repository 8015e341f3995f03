#pragma once
// A connection's answers on their way into the socket, in order, each still
// in the buffer it was built in: a large answer (a fetch of megabytes) is
// sent from there with sendmsg over several buffers at once, never copied
// into a shared output buffer nor moved forward in one as it drains.
#include <sys/uio.h>

#include <cstddef>
#include <deque>
#include <string>

namespace rustlog {

class OutputQueue {
 public:
  void push(std::string frame) {
    if (frame.empty()) return;
    bytes_ += frame.size();
    frames_.push_back(std::move(frame));
  }
  size_t pending() const { return bytes_; }
  size_t frames() const { return frames_.size(); }  // answers not yet wholly sent
  // Describes up to `max` buffers of the unsent bytes, in order; returns
  // how many.
  int fill(struct iovec* iov, int max) const {
    int n = 0;
    size_t skip = pos_;
    for (auto it = frames_.begin(); it != frames_.end() && n < max; ++it, skip = 0) {
      iov[n].iov_base = const_cast<char*>(it->data() + skip);
      iov[n].iov_len = it->size() - skip;
      ++n;
    }
    return n;
  }
  // `n` of the pending bytes were written (n <= pending()).
  void consume(size_t n) {
    bytes_ -= n;
    while (n > 0) {
      const size_t left = frames_.front().size() - pos_;
      if (n < left) {
        pos_ += n;
        return;
      }
      n -= left;
      frames_.pop_front();
      pos_ = 0;
    }
  }
  // The unsent bytes as one string (tests, which decode what would leave).
  std::string copy_pending() const {
    std::string s;
    s.reserve(bytes_);
    size_t skip = pos_;
    for (const auto& f : frames_) {
      s.append(f, skip, std::string::npos);
      skip = 0;
    }
    return s;
  }

 private:
  std::deque<std::string> frames_;
  size_t pos_ = 0;    // bytes of frames_.front() already written
  size_t bytes_ = 0;  // unsent bytes in all
};

}  // namespace rustlog
