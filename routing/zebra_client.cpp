// Order of this file follows a session: connect, read and dispatch frames,
// drop and reconnect; then the routes (apply, announce, withdraw), the write
// queue, withdraw_all() and status().

#include "routing/zebra_client.hpp"

#include "routing/routing_log.hpp"

#include <poll.h>

#include <algorithm>
#include <optional>
#include <utility>

namespace mesh::routing {

namespace asio = boost::asio;

namespace {

// A route's state as status() shows it and log lines name it: zebra's last
// ROUTE_NOTIFY_OWNER about it, "sent" before the first.
const char* state_name(std::optional<zapi::RouteNote> note) noexcept
{
    if (!note)
        return "sent";
    switch (*note) {
    case zapi::RouteNote::fail_install: return "install-failed";
    case zapi::RouteNote::better_admin_won: return "better-admin-won";
    case zapi::RouteNote::installed: return "installed";
    case zapi::RouteNote::removed: return "removed";
    case zapi::RouteNote::remove_fail: return "remove-failed";
    }
    return "unknown";
}

} // namespace

template <class Handler>
auto ZebraClient::guarded(Handler handler)
{
    return [this, alive = std::weak_ptr<int>(alive_), session = session_,
            handler = std::move(handler)](auto&&... args) mutable {
        if (alive.expired() || session != session_)
            return;
        handler(std::forward<decltype(args)>(args)...);
    };
}

ZebraClient::ZebraClient(asio::io_context& io, std::filesystem::path socket)
    : path_(std::move(socket)), endpoint_(path_.string()), socket_(io), timer_(io)
{
    connect();
}

// --- Session ---

void ZebraClient::connect()
{
    phase_ = Phase::connecting;
    socket_.async_connect(endpoint_, guarded([this](const boost::system::error_code& error) {
        if (!error) {
            on_connected();
            return;
        }
        ++counters_.connect_failures;
        last_error_ = "cannot connect: " + error.message();
        // zebra often starts after us: say so once, not every few seconds.
        if (failed_connects_in_a_row_++ == 0)
            routing_log()->warn("zebra at {}: cannot connect: {}; retrying quietly every {} s at most until it answers",
                                path_.string(), error.message(), zebra_backoff_most.count() / 1000);
        else
            routing_log()->debug("zebra at {}: cannot connect: {}; retrying in {} ms", path_.string(),
                                 error.message(), backoff_.count());
        boost::system::error_code ignored;
        socket_.close(ignored);
        ++session_;
        reconnect_later();
    }));
}

void ZebraClient::on_connected()
{
    ++counters_.connects;
    phase_ = Phase::hello_sent;
    failed_connects_in_a_row_ = 0;
    splitter_.reset();
    boost::system::error_code error;
    socket_.non_blocking(true, error); // flush() writes directly and waits only when the socket is full
    if (error) {
        drop("cannot make the socket non-blocking: " + error.message());
        return;
    }
    routing_log()->info("zebra at {}: connected, saying HELLO as route type nhrp instance 0", path_.string());
    out_.push_back(*encode_hello(zapi::our_route_type, 0, 0, true));
    timer_.expires_after(zebra_capabilities_timeout);
    timer_.async_wait(guarded([this](const boost::system::error_code& timer_error) {
        if (!timer_error)
            drop(fmt::format("no CAPABILITIES within {} ms of HELLO: is this zebra of FRR 8.4?",
                             zebra_capabilities_timeout.count()));
    }));
    read();
    flush();
}

void ZebraClient::read()
{
    socket_.async_read_some(asio::buffer(read_buffer_), guarded([this](const boost::system::error_code& error,
                                                                       std::size_t n) {
        if (error == asio::error::eof && splitter_.pending() > 0) {
            ++counters_.protocol_errors;
            drop(fmt::format("zebra closed the connection in the middle of a frame ({} bytes of it read)",
                             splitter_.pending()));
            return;
        }
        if (error) {
            drop(error == asio::error::eof ? std::string("zebra closed the connection") : "read error: " + error.message());
            return;
        }
        splitter_.feed(std::span(read_buffer_.data(), n));
        const std::uint64_t session = session_;
        while (session == session_) {
            const auto frame = splitter_.next();
            if (!frame) {
                if (frame.error() != ZapiError::need_more_bytes)
                    protocol_error(frame.error());
                break;
            }
            ++counters_.frames_in;
            on_frame(*frame);
        }
        if (session == session_)
            read();
    }));
}

void ZebraClient::on_frame(const Frame& frame)
{
    switch (frame.command()) {
    case zapi::Command::capabilities:
        if (const auto caps = decode_capabilities(frame.body))
            on_capabilities(*caps);
        else
            protocol_error(caps.error());
        return;
    case zapi::Command::route_notify_owner:
        if (const auto notify = decode_route_notify_owner(frame.body)) {
            on_route_notify(*notify);
        } else {
            // The stream is still in sync: count it, keep the session.
            ++counters_.protocol_errors;
            routing_log()->warn("zebra at {}: unreadable ROUTE_NOTIFY_OWNER ({}), ignored", path_.string(),
                                describe(notify.error()));
        }
        return;
    case zapi::Command::error:
        ++counters_.protocol_errors;
        routing_log()->warn("zebra at {}: ZEBRA_ERROR: zebra refused a message of ours", path_.string());
        return;
    default:
        return; // interface, VRF and router-id events every client gets; routes need none of them
    }
}

void ZebraClient::on_capabilities(const Capabilities& caps)
{
    ecmp_ = std::max<std::uint32_t>(caps.ecmp, 1);
    if (phase_ == Phase::ready) { // a second CAPABILITIES: announce again under the new ECMP limit
        for (const auto& [prefix, route] : wanted_)
            announce(route);
        flush();
        return;
    }
    phase_ = Phase::ready;
    backoff_ = zebra_backoff_first; // a working session: the next failure starts the backoff afresh
    last_error_.clear();
    timer_.cancel();
    routing_log()->info("zebra at {}: ready (ECMP {}), announcing {} route(s) as type nhrp "
                        "(ospfd/bgpd pick them up with `redistribute nhrp`)",
                        path_.string(), ecmp_, wanted_.size());
    for (const auto& [prefix, route] : wanted_)
        announce(route);
    flush();
}

void ZebraClient::on_route_notify(const RouteNotify& notify)
{
    const auto it = announced_.find(notify.prefix);
    if (it == announced_.end()) {
        // Typically "removed" for a route we just deleted.
        routing_log()->debug("zebra at {}: route {}: {}", path_.string(), notify.prefix.to_string(),
                             state_name(notify.note));
        return;
    }
    it->second.note = notify.note;
    const std::string route = to_string(it->second.route);
    switch (notify.note) {
    case zapi::RouteNote::fail_install:
    case zapi::RouteNote::remove_fail:
        ++counters_.notify_failures;
        routing_log()->warn("zebra at {}: route {}: {} (zebra's log says why)", path_.string(), route,
                            state_name(notify.note));
        return;
    case zapi::RouteNote::better_admin_won:
        routing_log()->info("zebra at {}: route {}: better-admin-won: another protocol's route is preferred, "
                            "ours waits as a backup",
                            path_.string(), route);
        return;
    case zapi::RouteNote::installed:
    case zapi::RouteNote::removed:
        routing_log()->info("zebra at {}: route {}: {}", path_.string(), route, state_name(notify.note));
        return;
    }
}

void ZebraClient::protocol_error(ZapiError error)
{
    ++counters_.protocol_errors;
    switch (error) {
    case ZapiError::bad_version:
        routing_log()->error("zebra at {} speaks another ZAPI version (mesh-site speaks version 6 as of FRR 8.4)",
                             path_.string());
        drop("ZAPI version mismatch");
        return;
    case ZapiError::bad_marker:
        drop("bytes that are not a ZAPI frame (bad header marker): not zebra, or the stream lost sync");
        return;
    default:
        drop(fmt::format("malformed frame from zebra: {}", describe(error)));
        return;
    }
}

void ZebraClient::drop(const std::string& reason)
{
    ++counters_.disconnects;
    last_error_ = reason;
    routing_log()->warn("zebra at {}: {}; dropping the connection (zebra removes our routes), reconnecting in {} ms",
                        path_.string(), reason, backoff_.count());
    boost::system::error_code ignored;
    socket_.close(ignored);
    ++session_;
    out_.clear();
    out_offset_ = 0;
    write_waiting_ = false;
    splitter_.reset();
    announced_.clear();
    ecmp_ = 0;
    reconnect_later();
}

void ZebraClient::reconnect_later()
{
    phase_ = Phase::waiting;
    timer_.expires_after(backoff_);
    timer_.async_wait(guarded([this](const boost::system::error_code& error) {
        if (!error)
            connect();
    }));
    backoff_ = std::min(backoff_ * 2, zebra_backoff_most);
}

// --- Routes ---

void ZebraClient::apply(std::span<const SelectedRoute> routes)
{
    std::map<net::IpPrefix, SelectedRoute> wanted;
    for (const SelectedRoute& route : routes)
        wanted.insert_or_assign(route.prefix, route);
    wanted_ = std::move(wanted);
    if (phase_ != Phase::ready)
        return; // the replay after CAPABILITIES announces wanted_

    for (auto it = announced_.begin(); it != announced_.end();) {
        if (wanted_.contains(it->first)) {
            ++it;
            continue;
        }
        withdraw(it->second.route);
        it = announced_.erase(it);
    }
    for (const auto& [prefix, route] : wanted_) {
        const auto it = announced_.find(prefix);
        if (it == announced_.end() || it->second.route != route)
            announce(route);
    }
    flush();
}

void ZebraClient::announce(const SelectedRoute& selected)
{
    Route route;
    route.type = zapi::our_route_type;
    route.message = zapi::message::nexthop | zapi::message::distance | zapi::message::metric;
    route.prefix = selected.prefix;
    route.distance = selected.distance;
    route.metric = selected.metric;
    if (selected.blackhole()) {
        route.nexthops.push_back(Nexthop::blackhole_of(zapi::BlackholeType::null));
        route.message |= zapi::message::tag;
        route.tag = leak_guard_tag;
    }
    for (const int ifindex : selected.ifindexes) {
        if (route.nexthops.size() == ecmp_) {
            routing_log()->warn("zebra at {}: route {} has {} nexthops, zebra takes {} (its multipath limit)",
                                path_.string(), to_string(selected), selected.ifindexes.size(), ecmp_);
            break;
        }
        route.nexthops.push_back(Nexthop::via_ifindex(ifindex));
    }
    auto frame = encode_route(zapi::Command::route_add, route);
    if (!frame) { // only a prefix the configuration would never let through
        routing_log()->error("zebra at {}: cannot encode route {}: {}", path_.string(), to_string(selected),
                             describe(frame.error()));
        return;
    }
    out_.push_back(std::move(*frame));
    announced_.insert_or_assign(selected.prefix, Announced{selected, std::nullopt});
    routing_log()->info("zebra at {}: announcing route {}", path_.string(), to_string(selected));
}

void ZebraClient::withdraw(const SelectedRoute& selected)
{
    // zebra's zread_route_del() finds our route by prefix, type and instance;
    // nexthops are not needed.
    Route route;
    route.type = zapi::our_route_type;
    route.message = zapi::message::distance | zapi::message::metric;
    route.prefix = selected.prefix;
    route.distance = selected.distance;
    route.metric = selected.metric;
    if (auto frame = encode_route(zapi::Command::route_delete, route)) {
        out_.push_back(std::move(*frame));
        routing_log()->info("zebra at {}: withdrawing route {}", path_.string(), selected.prefix.to_string());
    }
}

// --- Write queue: non-blocking writes; a full socket waits for writability
// (async_wait moves no bytes, so out_offset_ always says what was written).

ZebraClient::WriteResult ZebraClient::write_queued(boost::system::error_code& error)
{
    while (!out_.empty()) {
        const auto& frame = out_.front();
        const std::size_t n = socket_.write_some(asio::buffer(frame.data() + out_offset_, frame.size() - out_offset_), error);
        if (error == asio::error::would_block || error == asio::error::try_again)
            return WriteResult::would_block;
        if (error)
            return WriteResult::failed;
        out_offset_ += n;
        if (out_offset_ == frame.size()) {
            out_.pop_front();
            out_offset_ = 0;
            ++counters_.frames_out;
        }
    }
    return WriteResult::done;
}

void ZebraClient::flush()
{
    if (write_waiting_ || phase_ == Phase::waiting || phase_ == Phase::connecting)
        return;
    boost::system::error_code error;
    switch (write_queued(error)) {
    case WriteResult::done:
        return;
    case WriteResult::failed:
        drop("write error: " + error.message());
        return;
    case WriteResult::would_block:
        write_waiting_ = true;
        socket_.async_wait(Socket::wait_write, guarded([this](const boost::system::error_code& wait_error) {
            write_waiting_ = false;
            if (!wait_error)
                flush();
        }));
        return;
    }
}

void ZebraClient::withdraw_all()
{
    wanted_.clear();
    if (phase_ != Phase::ready) {
        announced_.clear();
        return; // not connected: zebra dropped our routes when the session ended
    }
    for (const auto& [prefix, announced] : announced_)
        withdraw(announced.route);
    announced_.clear();

    // The io_context may be stopped: write here, waiting in poll() for room.
    const auto deadline = std::chrono::steady_clock::now() + zebra_withdraw_timeout;
    boost::system::error_code error;
    for (;;) {
        const WriteResult result = write_queued(error);
        if (result == WriteResult::done)
            return;
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (result == WriteResult::failed || left.count() <= 0)
            break;
        pollfd pfd{socket_.native_handle(), POLLOUT, 0};
        ::poll(&pfd, 1, static_cast<int>(left.count()));
    }
    routing_log()->warn("zebra at {}: could not write the route deletes ({}); zebra removes our routes when the "
                        "connection closes",
                        path_.string(), error ? error.message() : std::string("timed out"));
}

nlohmann::json ZebraClient::status() const
{
    static constexpr const char* phases[] = {"waiting", "connecting", "hello-sent", "ready"};
    auto routes = nlohmann::json::array();
    for (const auto& [prefix, route] : wanted_) {
        auto entry = route_json(route);
        const auto it = announced_.find(prefix);
        entry["state"] = it == announced_.end() ? "not-announced" : state_name(it->second.note);
        routes.push_back(std::move(entry));
    }
    return {{"backend", "zebra"},
            {"socket", path_.string()},
            {"connected", phase_ == Phase::hello_sent || phase_ == Phase::ready},
            {"session", phases[static_cast<int>(phase_)]},
            {"ecmp", ecmp_},
            {"last-error", last_error_},
            {"routes", std::move(routes)},
            {"counters",
             {{"connects", counters_.connects},
              {"connect-failures", counters_.connect_failures},
              {"disconnects", counters_.disconnects},
              {"frames-in", counters_.frames_in},
              {"frames-out", counters_.frames_out},
              {"notify-failures", counters_.notify_failures},
              {"protocol-errors", counters_.protocol_errors}}}};
}

} // namespace mesh::routing
