#pragma once
// Tiny flag parsing shared by the examples: "--name value" pairs, each with
// a default. --broker defaults to $RUSTLOG_BROKER, else 127.0.0.1:9092.
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>

#include "client/client.h"

namespace example {

class Args {
 public:
  // defaults: flag name (without --) -> default value.
  Args(int argc, char** argv, std::map<std::string, std::string> defaults, const char* usage) {
    values_ = std::move(defaults);
    values_["broker"] = rustlog::client::default_broker_address();
    for (int i = 1; i < argc; ++i) {
      std::string a = argv[i];
      if (a == "-h" || a == "--help") {
        std::printf("%s", usage);
        std::exit(0);
      }
      if (a.rfind("--", 0) != 0 || !values_.count(a.substr(2)) || i + 1 >= argc) {
        std::fprintf(stderr, "unknown or incomplete option '%s'\n%s", a.c_str(), usage);
        std::exit(2);
      }
      values_[a.substr(2)] = argv[++i];
    }
  }
  const std::string& get(const std::string& name) const { return values_.at(name); }
  long number(const std::string& name) const { return std::stol(values_.at(name)); }

 private:
  std::map<std::string, std::string> values_;
};

// Prints the error and returns 1: `return fail(result.error());`
inline int fail(const rustlog::client::ClientError& e) {
  std::fprintf(stderr, "error: %s\n", e.to_string().c_str());
  return 1;
}

}  // namespace example
