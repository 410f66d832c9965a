#pragma once
// What the log lines of a scope concern beyond their topic: a peer, a
// tunnel. spdlog 1.10 has no mapped diagnostic context, so the thread that
// logs holds it: the journal sink (tools/log) sends it as the fields
// IKE_PEER= and TUNNEL=, so `journalctl IKE_PEER=site-b` finds every line
// about site-b. Setting it is two stores, done per IKE message or event,
// never per ESP packet. The names must outlive the scope (a peer's or
// tunnel's configured name does).

#include <string_view>

namespace mesh::net {

struct LogContext {
    std::string_view peer;
    std::string_view tunnel;
};

inline thread_local LogContext current_log_context;

// The context within which this thread logs now.
[[nodiscard]] inline const LogContext& log_context() noexcept { return current_log_context; }

// Sets a peer, a tunnel or both for its lifetime, and puts back what was
// set before; an empty name leaves that field as it was.
class LogScope {
public:
    [[nodiscard]] static LogScope peer(std::string_view name) { return LogScope(name, {}); }
    [[nodiscard]] static LogScope tunnel(std::string_view name, std::string_view peer = {})
    {
        return LogScope(peer, name);
    }

    LogScope(const LogScope&) = delete;
    LogScope& operator=(const LogScope&) = delete;
    ~LogScope() { current_log_context = saved_; }

private:
    LogScope(std::string_view peer, std::string_view tunnel) : saved_(current_log_context)
    {
        if (!peer.empty())
            current_log_context.peer = peer;
        if (!tunnel.empty())
            current_log_context.tunnel = tunnel;
    }

    LogContext saved_;
};

} // namespace mesh::net
