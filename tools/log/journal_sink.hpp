#pragma once
// Log lines as journal entries (sd_journal_sendv), for a daemon whose stderr
// systemd connected to the journal. The fields an operator filters on:
//   MESSAGE            "[topic] text", as on stderr without the time and level
//   PRIORITY           the syslog level of spdlog's (debug 7, info 6, warn 4, error 3, critical 2)
//   SYSLOG_IDENTIFIER  mesh-site
//   MESH_TOPIC         ike, esp, gre, routing, config or daemon
//   IKE_PEER, TUNNEL   the peer and tunnel the line concerns (net/log_context.hpp), when it does

#include <spdlog/details/null_mutex.h>
#include <spdlog/sinks/base_sink.h>

namespace mesh::log {

// True when stderr is the journal's stream: JOURNAL_STREAM holds stderr's
// "device:inode" (systemd.exec(5), "$JOURNAL_STREAM"). A child that inherited
// the variable but writes elsewhere does not match.
[[nodiscard]] bool stderr_is_journal();

// Syslog's priority for an spdlog level (RFC 5424 section 6.2.1).
[[nodiscard]] int syslog_priority(spdlog::level::level_enum level) noexcept;

// sd_journal_sendv is safe from any thread: no lock of our own.
class JournalSink final : public spdlog::sinks::base_sink<spdlog::details::null_mutex> {
protected:
    void sink_it_(const spdlog::details::log_msg& msg) override;
    void flush_() override {}
};

} // namespace mesh::log
