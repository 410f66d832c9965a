#pragma once
// The control socket's protocol: the client sends one request line, the
// daemon answers with one JSON document and closes the connection.
//
//   status                 peers, tunnels and SAs (`mesh-site status`)
//   status PEER            the same for one peer (`mesh-site status PEER`)
//   keys                   the SAs with their keys (`mesh-site keys`)
//   rekey ike PEER         the peer's IKE SA rekeyed now (`mesh-site rekey`)
//   rekey child PEER       its CHILD SAs rekeyed now (`mesh-site rekey --child`)
//   log                    every log topic's level (`mesh-site log`)
//   log SPEC               levels set now, "ike=debug,esp=info" (`mesh-site log SPEC`)
//   reload                 the configuration file read again, the difference applied (`mesh-site reload`)
//
// Anyone who can open the socket can send any bytes: a line is checked here
// (length, UTF-8, no control bytes, a known verb, a well-formed peer name)
// before the daemon sees it, and every answer is valid UTF-8 JSON, so no
// request can make the daemon throw. Both the daemon and the CLI use these
// functions: the CLI refuses what the daemon would refuse before it connects.

#include "tools/log/log_spec.hpp"

#include <nlohmann/json.hpp>

#include <cstddef>
#include <expected>
#include <functional>
#include <string>
#include <string_view>
#include <variant>

namespace mesh::daemon {

// A peer's name is a key of the configuration ([peer.NAME]); longer ones are
// not names but an attempt to fill memory.
inline constexpr std::size_t max_peer_name = 255;
// The longest request line, without its "\n": "rekey child " and a peer name.
inline constexpr std::size_t max_request_line = 12 + max_peer_name;

struct StatusRequest {
    std::string peer;   // empty: every peer
    bool operator==(const StatusRequest&) const = default;
};

struct KeysRequest {
    bool operator==(const KeysRequest&) const = default;
};

struct RekeyRequest {
    enum class Sa { ike, child };
    Sa sa = Sa::ike;
    std::string peer;
    bool operator==(const RekeyRequest&) const = default;
};

struct LogRequest {
    log::LogSpec spec;   // empty: only show the levels
    bool operator==(const LogRequest&) const = default;
};

struct ReloadRequest {
    bool operator==(const ReloadRequest&) const = default;
};

using Request = std::variant<StatusRequest, KeysRequest, RekeyRequest, LogRequest, ReloadRequest>;

// One request line, without its "\n" (one trailing "\r" is ignored), or a
// message saying what is wrong with it, with the offending bytes escaped.
[[nodiscard]] std::expected<Request, std::string> parse_request(std::string_view line);

// The line parse_request reads back as the same request, without "\n".
[[nodiscard]] std::string request_line(const Request& request);

// Empty when name can be a peer's name: 1 to max_peer_name bytes of UTF-8
// without control characters. Otherwise what is wrong with it.
[[nodiscard]] std::string check_peer_name(std::string_view name);

// bytes in double quotes for a message or log line: printable ASCII as it is,
// '"' and '\' escaped, every other byte as \xNN, at most limit bytes shown.
[[nodiscard]] std::string printable(std::string_view bytes, std::size_t limit = 64);

// Answers a parsed request with a JSON object ({"error": "..."} for a refusal).
using RequestHandler = std::function<nlohmann::json(const Request& request)>;

struct Answer {
    std::string text;      // one JSON document, valid UTF-8, without "\n"
    std::string failure;   // what the handler threw (its answer is then an error object); empty if nothing
};

// The answer to one request line: the handler's JSON for a valid request,
// an error object for an invalid one or when the handler throws. Strings
// the handler put in its JSON that are not UTF-8 come out with U+FFFD.
[[nodiscard]] Answer answer(std::string_view line, const RequestHandler& handler);

} // namespace mesh::daemon
