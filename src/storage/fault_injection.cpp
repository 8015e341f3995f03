#include "storage/fault_injection.h"

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <string_view>

#include <unistd.h>

namespace rustlog::fault {
namespace {
struct Armed {
  std::atomic<bool> on{false};
  int err = 0;
  int skip = 0;
  int times = 0;
  size_t partial = 0;
  std::string path;  // empty: every file
  std::string until;  // err == kHold: the calls wait until this file exists, then proceed
};
constexpr int kHold = -1;
Armed g_state[4];
std::atomic<IoRecorder*> g_recorder{nullptr};

bool parse_errno(std::string_view s, int* err) {
  static constexpr struct {
    const char* name;
    int value;
  } kNames[] = {{"EIO", EIO}, {"ENOSPC", ENOSPC}, {"EDQUOT", EDQUOT}, {"EROFS", EROFS}};
  for (const auto& n : kNames)
    if (s == n.name) return *err = n.value, true;
  return false;
}

bool parse_number(std::string_view s, int* out) {
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && end == s.data() + s.size() && *out >= 0;
}
}  // namespace

void arm(Op op, int err, int skip, int times, size_t partial_bytes, std::string path) {
  Armed& a = g_state[static_cast<int>(op)];
  a.path = std::move(path);
  a.err = err;
  a.skip = skip;
  a.times = times;
  a.partial = partial_bytes;
  a.on.store(true, std::memory_order_release);
}

void disarm() {
  for (auto& a : g_state) a.on.store(false, std::memory_order_release);
}

int check(Op op, size_t* partial, std::string_view path) {
  Armed& a = g_state[static_cast<int>(op)];
  if (!a.on.load(std::memory_order_relaxed)) return 0;
  if (!a.path.empty() && path.find(a.path) == std::string_view::npos) return 0;
  if (a.skip > 0) {
    --a.skip;
    return 0;
  }
  if (a.times <= 0) return 0;
  if (--a.times == 0) a.on.store(false, std::memory_order_relaxed);
  if (a.err == kHold) {
    // A slow disk, as long as the test wants: the calling thread waits.
    while (::access(a.until.c_str(), F_OK) != 0) ::usleep(10000);
    return 0;
  }
  if (partial) *partial = a.partial;
  return a.err;
}

void arm_hold(Op op, std::string until, int skip, int times, std::string path) {
  Armed& a = g_state[static_cast<int>(op)];
  a.until = std::move(until);
  arm(op, kHold, skip, times, 0, std::move(path));
}

bool arm_from_spec(const std::string& spec) {
  std::string_view rest(spec);
  auto next = [&rest]() {
    const size_t colon = rest.find(':');
    std::string_view field = rest.substr(0, colon);
    rest = colon == std::string_view::npos ? std::string_view() : rest.substr(colon + 1);
    return field;
  };
  const std::string_view op_name = next();
  Op op;
  if (op_name == "write") op = Op::kWrite;
  else if (op_name == "sync") op = Op::kSync;
  else if (op_name == "rename") op = Op::kRename;
  else if (op_name == "preallocate") op = Op::kPreallocate;
  else return false;
  int err = 0;
  const std::string_view err_name = next();
  const bool hold = err_name == "HOLD";
  if (!hold && !parse_errno(err_name, &err)) return false;
  int skip = 0, times = 1, partial = 0;
  std::string path, until;
  while (!rest.empty()) {
    const std::string_view field = next();
    if (field.substr(0, 5) == "path=") {
      path = std::string(field.substr(5));
      if (path.empty()) return false;
      continue;
    }
    if (field.substr(0, 6) == "until=") {
      until = std::string(field.substr(6));
      if (until.empty()) return false;
      continue;
    }
    const size_t eq = field.find('=');
    if (eq == std::string_view::npos) return false;
    const std::string_view key = field.substr(0, eq), value = field.substr(eq + 1);
    int* target = key == "skip" ? &skip : key == "times" ? &times : key == "partial" ? &partial : nullptr;
    if (!target || !parse_number(value, target)) return false;
  }
  if (hold != !until.empty()) return false;  // HOLD needs until=, and only HOLD takes it
  if (hold) arm_hold(op, std::move(until), skip, times, std::move(path));
  else arm(op, err, skip, times, static_cast<size_t>(partial), std::move(path));
  return true;
}

void set_recorder(IoRecorder* r) { g_recorder.store(r, std::memory_order_release); }
IoRecorder* recorder() { return g_recorder.load(std::memory_order_relaxed); }

}  // namespace rustlog::fault
