#pragma once
// The two clocks RustLog reads, in the integer units its interfaces take.
// Steady time measures intervals and deadlines (it never jumps); wall time
// stamps records and is what users see (it can jump with NTP or an admin).
#include <chrono>
#include <cstdint>

namespace rustlog {

inline int64_t steady_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
inline int64_t steady_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
// Microseconds since the Unix epoch: the unit of record timestamps.
inline int64_t wall_us() {
  return std::chrono::duration_cast<std::chrono::microseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}
inline int64_t wall_ms() { return wall_us() / 1000; }

// Milliseconds elapsed since `t0` (a steady_clock time point), as a double.
inline double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace rustlog
