#pragma once
// Selected routes into FRR's zebra over ZAPI v6 (FRR 8.4.x), on the zserv
// unix socket (zebra-socket). docs/zapi.md describes the behaviour for operators.
//
// Flow of one session:
//   connect ---------------------------- fails: retry after backoff (200 ms doubling to 5 s)
//   -> HELLO (type nhrp, instance 0, receive_notify)
//   -> CAPABILITIES (ecmp: most nexthops per route) -------- none in 5 s: not zebra 8.4, drop
//   -> ROUTE_ADD for every wanted route: zebra flushed ours when the last session ended
//   -> apply(): ROUTE_ADD for new and changed routes, ROUTE_DELETE for gone ones
//   <- ROUTE_NOTIFY_OWNER per route: installed, failed, better admin distance won, removed
//   EOF, read/write error, a frame that is not ZAPI v6: drop, reconnect after backoff, replay.
//
// Everything runs on the io_context's thread except withdraw_all(), which
// writes the deletes itself because at shutdown that context no longer runs.

#include "routing/route_sink.hpp"
#include "routing/zapi_codec.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mesh::routing {

// Route tag of the leak-guard blackholes, for route-maps: ospfd 8.4 does not
// implement `match ip next-hop type blackhole` (bgpd does), but both match
// tags, and a blackhole must not be redistributed: it would draw the remote
// site's traffic to a site whose tunnel is down. docs/zapi.md has the route-map.
inline constexpr std::uint32_t leak_guard_tag = 254;

// First wait before reconnecting, doubled after every failed session up to the most.
inline constexpr std::chrono::milliseconds zebra_backoff_first{200};
inline constexpr std::chrono::milliseconds zebra_backoff_most{5000};
// zebra answers HELLO with CAPABILITIES at once (zread_hello); silence this long means the peer is not zebra 8.4.
inline constexpr std::chrono::milliseconds zebra_capabilities_timeout{5000};
// How long withdraw_all() may block writing the deletes at shutdown.
inline constexpr std::chrono::milliseconds zebra_withdraw_timeout{2000};

class ZebraClient : public RouteSink {
public:
    // Starts connecting at once; throws std::system_error only for a socket path too long for sun_path.
    ZebraClient(boost::asio::io_context& io, std::filesystem::path socket);
    ZebraClient(const ZebraClient&) = delete;
    ZebraClient& operator=(const ZebraClient&) = delete;

    void apply(std::span<const SelectedRoute> routes) override;
    void withdraw_all() override;
    [[nodiscard]] nlohmann::json status() const override;

private:
    using Socket = boost::asio::local::stream_protocol::socket;

    enum class Phase : std::uint8_t { waiting, connecting, hello_sent, ready };
    struct Announced {
        SelectedRoute route;
        std::optional<zapi::RouteNote> note; // zebra's last ROUTE_NOTIFY_OWNER about it; none yet: "sent"
    };
    enum class WriteResult : std::uint8_t { done, would_block, failed };

    // --- session
    void connect();
    void on_connected();
    void read();
    void on_frame(const Frame& frame);
    void on_capabilities(const Capabilities& caps);
    void on_route_notify(const RouteNotify& notify);
    void protocol_error(ZapiError error);
    // Closes the socket, forgets what zebra had (it flushes our routes when we
    // leave) and reconnects after the backoff.
    void drop(const std::string& reason);
    void reconnect_later();

    // --- routes: queue frames in out_, then flush() once
    void announce(const SelectedRoute& route);
    void withdraw(const SelectedRoute& route);
    void flush();
    WriteResult write_queued(boost::system::error_code& error);

    // Wraps a completion handler so it does nothing once this client is gone
    // or the session it was started in has ended.
    template <class Handler>
    auto guarded(Handler handler);

    // --- owned by the io_context's thread (and by withdraw_all() at shutdown)
    std::filesystem::path path_;
    boost::asio::local::stream_protocol::endpoint endpoint_;
    Socket socket_;
    boost::asio::steady_timer timer_; // reconnect backoff, or the wait for CAPABILITIES
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
    std::uint64_t session_ = 0; // bumped whenever a socket is closed
    Phase phase_ = Phase::waiting;
    std::chrono::milliseconds backoff_ = zebra_backoff_first;
    std::uint32_t failed_connects_in_a_row_ = 0;
    std::string last_error_;

    FrameSplitter splitter_;
    std::array<std::uint8_t, 4096> read_buffer_{};
    std::deque<std::vector<std::uint8_t>> out_;
    std::size_t out_offset_ = 0; // bytes of out_.front() already written
    bool write_waiting_ = false;

    std::uint32_t ecmp_ = 0; // from CAPABILITIES; 0 until then
    std::map<net::IpPrefix, SelectedRoute> wanted_;
    std::map<net::IpPrefix, Announced> announced_; // what this session told zebra

    struct Counters {
        std::uint64_t connects = 0;
        std::uint64_t connect_failures = 0;
        std::uint64_t disconnects = 0;
        std::uint64_t frames_in = 0;
        std::uint64_t frames_out = 0;
        std::uint64_t notify_failures = 0;
        std::uint64_t protocol_errors = 0;
    } counters_;
};

} // namespace mesh::routing
