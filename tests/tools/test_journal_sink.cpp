// When the log goes to the journal (tools/log/journal_sink.hpp): only when
// JOURNAL_STREAM names stderr itself, as systemd.exec(5) sets it; and the
// syslog priority of each level.

#include "tools/log/journal_sink.hpp"

#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <string>

using mesh::log::stderr_is_journal;
using mesh::log::syslog_priority;

namespace {

// Sets JOURNAL_STREAM (unsets it for nullopt) and puts back what was there.
class JournalStream {
public:
    explicit JournalStream(const std::optional<std::string>& value)
    {
        if (const char* old = std::getenv("JOURNAL_STREAM"))
            saved_ = old;
        if (value)
            ::setenv("JOURNAL_STREAM", value->c_str(), 1);
        else
            ::unsetenv("JOURNAL_STREAM");
    }
    JournalStream(const JournalStream&) = delete;
    JournalStream& operator=(const JournalStream&) = delete;
    ~JournalStream()
    {
        if (saved_)
            ::setenv("JOURNAL_STREAM", saved_->c_str(), 1);
        else
            ::unsetenv("JOURNAL_STREAM");
    }

private:
    std::optional<std::string> saved_;
};

std::string stderr_device_inode()
{
    struct stat st {};
    REQUIRE(::fstat(STDERR_FILENO, &st) == 0);
    return std::to_string(st.st_dev) + ":" + std::to_string(st.st_ino);
}

} // namespace

TEST_CASE("the journal is used only when JOURNAL_STREAM is stderr's device:inode")
{
    const auto mine = stderr_device_inode();
    {
        const JournalStream set(mine);
        CHECK(stderr_is_journal());
    }
    struct Case {
        int number;
        std::optional<std::string> value;
    };
    const Case cases[] = {
        {1, std::nullopt},
        {2, ""},
        {3, "1:1"},                  // inherited from a parent whose stderr was the journal
        {4, mine + "0"},
        {5, mine.substr(0, mine.find(':'))},
        {6, mine + ":"},
        {7, " " + mine},
        {8, "x:y"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.number);
        const JournalStream set(c.value);
        CHECK_FALSE(stderr_is_journal());
    }
}

TEST_CASE("spdlog's levels map to syslog's priorities")
{
    CHECK(syslog_priority(spdlog::level::trace) == 7);
    CHECK(syslog_priority(spdlog::level::debug) == 7);
    CHECK(syslog_priority(spdlog::level::info) == 6);
    CHECK(syslog_priority(spdlog::level::warn) == 4);
    CHECK(syslog_priority(spdlog::level::err) == 3);
    CHECK(syslog_priority(spdlog::level::critical) == 2);
}
