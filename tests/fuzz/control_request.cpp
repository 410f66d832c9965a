// libFuzzer target for the control socket's protocol (tools/daemon/control_request.hpp):
// the parser and the daemon's dispatch, answer(), with a fake handler in
// place of the daemon. Properties:
//   - any line is a request or a refusal, never an exception or a crash;
//   - a request is exactly its line: request_line() gives the line back
//     (without one trailing "\r"), and parse_request() reads that back;
//   - a refusal's message is valid UTF-8;
//   - every answer is one JSON document of valid UTF-8 without a newline,
//     even when the handler throws or puts bytes that are not UTF-8 in
//     its JSON (as a peer's ID payload could);
//   - the handler sees only requests that parse_request accepted.

#include "tools/daemon/control_request.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <stdexcept>
#include <string>
#include <string_view>

namespace {

using namespace mesh::daemon;

void require(bool property)
{
    if (!property)
        std::abort();
}

// Valid UTF-8: nlohmann's strict dump throws type_error 316 otherwise.
bool utf8(const std::string& text)
{
    try {
        (void)nlohmann::json(text).dump();
        return true;
    } catch (const nlohmann::json::type_error&) {
        return false;
    }
}

// Stands in for the daemon: echoes the request with bytes that are not
// UTF-8, or throws, depending on the peer's name.
nlohmann::json fake_daemon(const Request& request)
{
    require(parse_request(request_line(request)).has_value());
    if (const auto* rekey = std::get_if<RekeyRequest>(&request)) {
        if (rekey->peer.starts_with('!'))
            throw std::runtime_error("peer \xff" + rekey->peer);
        if (rekey->peer.starts_with('?'))
            throw 7;
        return {{"peer", rekey->peer + "\xc3"}, {"count", rekey->peer.size()}};
    }
    return {{"line", request_line(request)}, {"id", "fqdn:\xe9t\xe9"}};
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    const std::string_view line(reinterpret_cast<const char*>(data), size);
    const auto parsed = parse_request(line);
    if (parsed) {
        std::string_view bare = line;
        if (bare.ends_with('\r'))
            bare.remove_suffix(1);
        require(request_line(*parsed) == bare);
        require(*parse_request(request_line(*parsed)) == *parsed);
    } else {
        require(!parsed.error().empty() && utf8(parsed.error()));
    }

    const auto [text, failure] = answer(line, fake_daemon);
    require(text.find('\n') == std::string::npos);
    const auto json = nlohmann::json::parse(text);   // throws (a crash here) on invalid JSON or UTF-8
    require(json.is_object());
    require(json.contains("error") == (!parsed || !failure.empty()));
    return 0;
}
