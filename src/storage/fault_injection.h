#pragma once
// Test hooks that make the next file writes or fsyncs fail, so the fatal-I/O
// paths (failed fsync, ENOSPC) can be exercised on real files. Production
// code pays one relaxed atomic load per call when no fault is armed.
#include <cstddef>

namespace rustlog::fault {

enum class Op { kWrite, kSync };

// After `skip` more successful calls of `op`, fail `times` calls with `err`.
// For kWrite, `partial_bytes` > 0 first writes that many bytes of the failing
// call before failing (a short write, as a full disk produces).
void arm(Op op, int err, int skip = 0, int times = 1, size_t partial_bytes = 0);
void disarm();

// Called by File: returns 0 to proceed, or an errno to fail with; `*partial`
// receives how many bytes to write before failing.
int check(Op op, size_t* partial);

}  // namespace rustlog::fault
