#include "storage/fault_injection.h"

#include <atomic>

namespace rustlog::fault {
namespace {
struct Armed {
  std::atomic<bool> on{false};
  int err = 0;
  int skip = 0;
  int times = 0;
  size_t partial = 0;
};
Armed g_state[2];
}  // namespace

void arm(Op op, int err, int skip, int times, size_t partial_bytes) {
  Armed& a = g_state[static_cast<int>(op)];
  a.err = err;
  a.skip = skip;
  a.times = times;
  a.partial = partial_bytes;
  a.on.store(true, std::memory_order_release);
}

void disarm() {
  for (auto& a : g_state) a.on.store(false, std::memory_order_release);
}

int check(Op op, size_t* partial) {
  Armed& a = g_state[static_cast<int>(op)];
  if (!a.on.load(std::memory_order_relaxed)) return 0;
  if (a.skip > 0) {
    --a.skip;
    return 0;
  }
  if (a.times <= 0) return 0;
  if (--a.times == 0) a.on.store(false, std::memory_order_relaxed);
  if (partial) *partial = a.partial;
  return a.err;
}

}  // namespace rustlog::fault
