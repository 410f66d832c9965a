#pragma once
// The control socket's `log` request: sets topics' levels, if it names any,
// and answers with every topic's level then, {"levels": {"ike": "debug", ...}}.

#include "tools/daemon/control_request.hpp"

#include <nlohmann/json.hpp>

namespace mesh::daemon {

[[nodiscard]] nlohmann::json answer_log_request(const LogRequest& request);

} // namespace mesh::daemon
