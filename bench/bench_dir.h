#pragma once
// The working directory of a storage benchmark: a fresh directory under
// $RUSTLOG_BENCH_DIR (default /var/tmp), which must be on the real disk (a
// tmpfs is refused unless RUSTLOG_BENCH_ALLOW_TMPFS=1), removed at exit.
#include <stdlib.h>
#include <sys/vfs.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace rustlog::bench {

inline std::string& bench_root() {
  static std::string root;
  return root;
}

// Creates the directory (prefix `name`-XXXXXX) or exits with status 2.
inline const std::string& make_bench_dir(const char* name) {
  const char* parent = std::getenv("RUSTLOG_BENCH_DIR");
  std::string tmpl = std::string(parent && *parent ? parent : "/var/tmp") + "/" + name + "-XXXXXX";
  if (!::mkdtemp(tmpl.data())) {
    std::fprintf(stderr, "%s: cannot create a directory from %s\n", name, tmpl.c_str());
    std::exit(2);
  }
  bench_root() = tmpl;
  std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all(bench_root(), ec);
  });
  struct statfs sfs;
  if (::statfs(tmpl.c_str(), &sfs) == 0 && sfs.f_type == 0x01021994 /* TMPFS_MAGIC */ &&
      !std::getenv("RUSTLOG_BENCH_ALLOW_TMPFS")) {
    std::fprintf(stderr, "%s: %s is on tmpfs: set RUSTLOG_BENCH_DIR to a directory on the real disk\n", name,
                 tmpl.c_str());
    std::exit(2);
  }
  return bench_root();
}

}  // namespace rustlog::bench
