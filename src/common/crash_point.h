#pragma once
// Named crash points for kill -9 tests of multi-step operations (topic
// create and delete). When the environment variable RUSTLOG_CRASH_POINT
// equals `name`, the process sends itself SIGKILL at that point: nothing
// after it runs, exactly as if the operator had killed it there. Unset (the
// normal case) it costs one getenv on these rare administrative paths.
namespace rustlog {

void crash_point(const char* name);

}  // namespace rustlog
