#pragma once
// One log reason's budget: whatever the network sends, a line that anyone can
// trigger with a datagram goes out about once per interval (a second); the
// occurrences held back in between are counted and told with the next line
// that goes out: "... (1234 more suppressed in the last 1.0 s)".
//
//   if (const auto allowed = limit.admit(now))
//       log->info("IKE_SA_INIT from {} ignored: no peer{}", from, allowed->note());
//
// The caller passes the time, so a test steps it. One thread owns a limiter
// (it sits beside the counters of the code that owns it); holding a line back
// is a comparison and an increment: no lock, no allocation.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace mesh::net {

class LogRateLimit {
public:
    using Clock = std::chrono::steady_clock;

    // What was held back before a line that may go out now.
    struct Suppressed {
        std::uint64_t count = 0;
        Clock::duration over{};   // since the previous line of this reason went out

        // " (N more suppressed in the last S.T s)", or "" when none were.
        [[nodiscard]] std::string note() const
        {
            if (count == 0)
                return {};
            const auto tenths = std::chrono::duration_cast<std::chrono::milliseconds>(over).count() / 100;
            return " (" + std::to_string(count) + " more suppressed in the last " + std::to_string(tenths / 10) + "." +
                   std::to_string(tenths % 10) + " s)";
        }
    };

    explicit constexpr LogRateLimit(Clock::duration interval = std::chrono::seconds(1)) noexcept
        : interval_(interval)
    {
    }

    // A line may go out at `now`: what was suppressed since the previous one.
    // nullopt: hold it back (counted for the next line).
    [[nodiscard]] std::optional<Suppressed> admit(Clock::time_point now) noexcept
    {
        if (logged_once_ && now - last_ < interval_) {
            ++suppressed_;
            return std::nullopt;
        }
        const Suppressed held{suppressed_, logged_once_ ? now - last_ : Clock::duration{}};
        logged_once_ = true;
        last_ = now;
        suppressed_ = 0;
        return held;
    }

    // Held back since the last line that went out (not yet told).
    [[nodiscard]] std::uint64_t pending() const noexcept { return suppressed_; }

private:
    Clock::duration interval_;
    Clock::time_point last_{};
    std::uint64_t suppressed_ = 0;
    bool logged_once_ = false;
};

} // namespace mesh::net
