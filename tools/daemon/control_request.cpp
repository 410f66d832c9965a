#include "tools/daemon/control_request.hpp"

#include <fmt/format.h>

namespace mesh::daemon {

namespace {

constexpr std::string_view usage = "status, status PEER, keys, rekey ike PEER, rekey child PEER, log, log SPEC or reload";

bool is_control(char32_t c)
{
    return c < 0x20 || (c >= 0x7f && c <= 0x9f);
}

// The length of the longest prefix of s that is UTF-8 (RFC 3629 section 4:
// no overlong forms, no surrogates, nothing above U+10FFFF) without control
// characters (C0, DEL, C1); s.size() when all of it is.
std::size_t text_prefix(std::string_view s)
{
    std::size_t i = 0;
    while (i < s.size()) {
        const auto lead = static_cast<unsigned char>(s[i]);
        std::size_t length = 1;
        char32_t c = lead;
        char32_t smallest = 0;
        if (lead >= 0x80) {
            if ((lead & 0xe0) == 0xc0) {
                length = 2, c = lead & 0x1f, smallest = 0x80;
            } else if ((lead & 0xf0) == 0xe0) {
                length = 3, c = lead & 0x0f, smallest = 0x800;
            } else if ((lead & 0xf8) == 0xf0) {
                length = 4, c = lead & 0x07, smallest = 0x10000;
            } else {
                return i;
            }
            if (s.size() - i < length)
                return i;
            for (std::size_t k = 1; k < length; ++k) {
                const auto next = static_cast<unsigned char>(s[i + k]);
                if ((next & 0xc0) != 0x80)
                    return i;
                c = (c << 6) | (next & 0x3f);
            }
            if (c < smallest || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                return i;
        }
        if (is_control(c))
            return i;
        i += length;
    }
    return i;
}

std::unexpected<std::string> refuse(std::string message)
{
    return std::unexpected(std::move(message));
}

} // namespace

std::string printable(std::string_view bytes, std::size_t limit)
{
    std::string out = "\"";
    for (const char c : bytes.substr(0, limit)) {
        const auto b = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\')
            out += '\\', out += c;
        else if (b >= 0x20 && b < 0x7f)
            out += c;
        else
            out += fmt::format("\\x{:02x}", b);
    }
    out += '"';
    if (bytes.size() > limit)
        out += fmt::format("... ({} bytes)", bytes.size());
    return out;
}

std::string check_peer_name(std::string_view name)
{
    if (name.empty())
        return "no peer name";
    if (name.size() > max_peer_name)
        return fmt::format("a peer name of {} bytes (at most {})", name.size(), max_peer_name);
    if (const auto good = text_prefix(name); good != name.size())
        return fmt::format("the peer name {} is not text: byte 0x{:02x} at offset {} is not UTF-8 or is a control "
                           "character",
                           printable(name), static_cast<unsigned char>(name[good]), good);
    return {};
}

std::expected<Request, std::string> parse_request(std::string_view line)
{
    if (line.ends_with('\r'))
        line.remove_suffix(1);
    if (line.size() > max_request_line)
        return refuse(fmt::format("a request line of more than {} bytes: {}", max_request_line, printable(line, 32)));
    if (line.empty())
        return refuse(fmt::format("an empty request: send {}", usage));
    if (const auto good = text_prefix(line); good != line.size())
        return refuse(fmt::format("the request {} is not text: byte 0x{:02x} at offset {} is not UTF-8 or is a "
                                  "control character",
                                  printable(line), static_cast<unsigned char>(line[good]), good));
    const auto space = line.find(' ');
    const auto verb = line.substr(0, space);
    const auto rest = space == std::string_view::npos ? std::string_view{} : line.substr(space + 1);
    if (verb == "status") {
        if (space == std::string_view::npos)
            return StatusRequest{};
        if (auto wrong = check_peer_name(rest); !wrong.empty())
            return refuse("status: " + wrong);
        return StatusRequest{std::string(rest)};
    }
    if (verb == "keys" || verb == "reload") {
        if (space != std::string_view::npos)
            return refuse(fmt::format("{} takes no argument, not {}", verb, printable(rest)));
        if (verb == "reload")
            return ReloadRequest{};
        return KeysRequest{};
    }
    if (verb == "rekey") {
        const auto gap = rest.find(' ');
        const auto sa = rest.substr(0, gap);
        if (sa != "ike" && sa != "child")
            return refuse(fmt::format("rekey what? {} (rekey ike PEER or rekey child PEER)", printable(sa)));
        const auto peer = gap == std::string_view::npos ? std::string_view{} : rest.substr(gap + 1);
        if (auto wrong = check_peer_name(peer); !wrong.empty())
            return refuse("rekey " + std::string(sa) + ": " + wrong);
        return RekeyRequest{sa == "ike" ? RekeyRequest::Sa::ike : RekeyRequest::Sa::child, std::string(peer)};
    }
    if (verb == "log") {
        if (space == std::string_view::npos)
            return LogRequest{};
        auto spec = log::parse_log_spec(rest);
        if (!spec)
            return refuse("log: " + spec.error());
        return LogRequest{std::move(*spec)};
    }
    return refuse(fmt::format("unknown request {}: send {}", printable(verb), usage));
}

std::string request_line(const Request& request)
{
    if (const auto* status = std::get_if<StatusRequest>(&request))
        return status->peer.empty() ? "status" : "status " + status->peer;
    if (std::holds_alternative<KeysRequest>(request))
        return "keys";
    if (const auto* log = std::get_if<LogRequest>(&request))
        return log->spec.empty() ? "log" : "log " + log::format_log_spec(log->spec);
    if (std::holds_alternative<ReloadRequest>(request))
        return "reload";
    const auto& rekey = std::get<RekeyRequest>(request);
    return std::string(rekey.sa == RekeyRequest::Sa::ike ? "rekey ike " : "rekey child ") + rekey.peer;
}

Answer answer(std::string_view line, const RequestHandler& handler)
{
    Answer out;
    nlohmann::json json;
    if (const auto request = parse_request(line); !request) {
        json = {{"error", request.error()}};
    } else {
        try {
            json = handler(*request);
        } catch (const std::exception& error) {
            out.failure = error.what();
        } catch (...) {
            out.failure = "an exception that is not a std::exception";
        }
        if (!out.failure.empty())
            json = {{"error", "the daemon failed to answer " + printable(line) + ": " + out.failure}};
    }
    // replace: a string the handler copied from elsewhere (a peer's identity,
    // an exception's text) may hold bytes that are not UTF-8; the default
    // handler throws on them (type_error 316).
    out.text = json.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return out;
}

} // namespace mesh::daemon
