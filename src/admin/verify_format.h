#pragma once
// Text (one table per partition) and JSON renderings of a VerifyReport. The
// text form counts problems but does not list them: the command prints each
// one on stderr, so a terminal shows it once.
#include <string>

#include <nlohmann/json.hpp>

#include "admin/verify.h"

namespace rustlog::admin {

std::string format_verify_report(const VerifyReport& report);
nlohmann::json verify_report_to_json(const VerifyReport& report);

}  // namespace rustlog::admin
