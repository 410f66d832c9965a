#include "tools/log/journal_sink.hpp"

#include "net/log_context.hpp"

#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <systemd/sd-journal.h>

#include <array>
#include <charconv>
#include <cstdlib>
#include <string>
#include <string_view>

namespace mesh::log {

bool stderr_is_journal()
{
    const char* value = std::getenv("JOURNAL_STREAM");
    if (value == nullptr)
        return false;
    const std::string_view text(value);
    const auto colon = text.find(':');
    if (colon == std::string_view::npos)
        return false;
    unsigned long long device = 0;
    unsigned long long inode = 0;
    const auto* end = text.data() + text.size();
    if (std::from_chars(text.data(), text.data() + colon, device).ptr != text.data() + colon ||
        std::from_chars(text.data() + colon + 1, end, inode).ptr != end)
        return false;
    struct stat st {};
    return ::fstat(STDERR_FILENO, &st) == 0 && st.st_dev == device && st.st_ino == inode;
}

int syslog_priority(spdlog::level::level_enum level) noexcept
{
    switch (level) {
    case spdlog::level::trace:
    case spdlog::level::debug:
        return 7;
    case spdlog::level::info:
        return 6;
    case spdlog::level::warn:
        return 4;
    case spdlog::level::err:
        return 3;
    default:
        return 2;
    }
}

void JournalSink::sink_it_(const spdlog::details::log_msg& msg)
{
    const auto& context = net::log_context();
    const std::string_view payload(msg.payload.data(), msg.payload.size());
    const std::string_view topic(msg.logger_name.data(), msg.logger_name.size());
    // A value may hold newlines: sd_journal_sendv sends it in the binary form.
    std::array<std::string, 6> fields{
        fmt::format("MESSAGE=[{}] {}", topic, payload),
        fmt::format("PRIORITY={}", syslog_priority(msg.level)),
        "SYSLOG_IDENTIFIER=mesh-site",
        fmt::format("MESH_TOPIC={}", topic),
    };
    std::size_t count = 4;
    if (!context.peer.empty())
        fields[count++] = fmt::format("IKE_PEER={}", context.peer);
    if (!context.tunnel.empty())
        fields[count++] = fmt::format("TUNNEL={}", context.tunnel);
    std::array<iovec, fields.size()> vectors{};
    for (std::size_t i = 0; i < count; ++i)
        vectors[i] = {fields[i].data(), fields[i].size()};
    ::sd_journal_sendv(vectors.data(), static_cast<int>(count));
}

} // namespace mesh::log
