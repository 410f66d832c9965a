#pragma once
// An in-process stand-in for FRR 8.4's zebra on a unix socket in a temporary
// folder: it accepts one client at a time, decodes what the client sends
// (HELLO, ROUTE_ADD, ROUTE_DELETE) with our own FrameSplitter and reader, and
// answers HELLO with CAPABILITIES as zread_hello() does. Tests drive it on the
// same io_context as the ZebraClient, with run_until().

#include "routing/zapi_codec.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/write.hpp>

#include <doctest/doctest.h>

#include <stdlib.h>

#include <array>
#include <bit>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace mesh::test {

namespace zapi = routing::zapi;
using local = boost::asio::local::stream_protocol;

// What the client sent, one entry per frame.
struct Received {
    zapi::Command command{};
    // HELLO
    std::uint8_t route_type = 0;
    std::uint16_t instance = 0;
    bool receive_notify = false;
    // ROUTE_ADD / ROUTE_DELETE
    net::IpPrefix prefix;
    std::vector<int> ifindexes;
    bool blackhole = false;
    std::uint8_t distance = 0;
    std::uint32_t metric = 0;
    std::uint32_t tag = 0;
};

inline Received decode_received(const routing::Frame& frame)
{
    Received r;
    r.command = frame.command();
    routing::ZapiReader in(frame.body);
    if (r.command == zapi::Command::hello) {
        r.route_type = in.u8();
        r.instance = in.u16();
        in.u32(); // session id
        r.receive_notify = in.u8() != 0;
        REQUIRE(in.u8() == 0); // synchronous
    } else {
        REQUIRE((r.command == zapi::Command::route_add || r.command == zapi::Command::route_delete));
        r.route_type = in.u8();
        r.instance = in.u16();
        in.u32(); // flags
        const std::uint32_t message = in.u32();
        REQUIRE(in.u8() == zapi::safi_unicast);
        const std::uint8_t family = in.u8();
        const std::uint8_t length = in.u8();
        std::array<std::uint8_t, 16> address{};
        const auto bytes = in.bytes((length + 7u) / 8u);
        std::memcpy(address.data(), bytes.data(), bytes.size());
        r.prefix = net::IpPrefix(net::IpAddress::from_bytes(family == zapi::family_inet
                                                                      ? net::IpAddress::Family::v4
                                                                      : net::IpAddress::Family::v6,
                                                                  address.data()),
                                    length);
        if (message & zapi::message::nexthop) {
            const std::uint16_t count = in.u16();
            for (std::uint16_t i = 0; i < count; ++i) {
                in.u32(); // vrf
                const auto type = static_cast<zapi::NexthopType>(in.u8());
                in.u8(); // flags
                if (type == zapi::NexthopType::ifindex) {
                    r.ifindexes.push_back(static_cast<int>(in.u32()));
                } else {
                    REQUIRE(type == zapi::NexthopType::blackhole);
                    in.u8();
                    r.blackhole = true;
                }
            }
        }
        if (message & zapi::message::distance)
            r.distance = in.u8();
        if (message & zapi::message::metric)
            r.metric = in.u32();
        if (message & zapi::message::tag)
            r.tag = in.u32();
    }
    REQUIRE(in.ok());
    return r;
}

// A whole frame: header (vrf 0) and body.
inline std::vector<std::uint8_t> zapi_frame(zapi::Command command, const std::vector<std::uint8_t>& body)
{
    routing::ZapiWriter w;
    w.u16(static_cast<std::uint16_t>(zapi::header_size + body.size()));
    w.u8(zapi::header_marker);
    w.u8(zapi::version);
    w.u32(zapi::vrf_default);
    w.u16(static_cast<std::uint16_t>(command));
    w.bytes(body);
    return std::move(w).take();
}

inline std::vector<std::uint8_t> capabilities_frame(std::uint32_t ecmp)
{
    routing::ZapiWriter w;
    w.u32(0); // vrf backend
    w.u8(0);  // mpls
    w.u32(ecmp);
    w.u8(0);  // mlag role
    return zapi_frame(zapi::Command::capabilities, std::move(w).take());
}

// ROUTE_NOTIFY_OWNER for an IPv4 prefix; the note goes in host order as zebra writes it.
inline std::vector<std::uint8_t> notify_frame(zapi::RouteNote note, const net::IpPrefix& prefix)
{
    std::vector<std::uint8_t> body(4);
    const auto value = static_cast<std::uint32_t>(note);
    std::memcpy(body.data(), &value, 4);
    routing::ZapiWriter w;
    w.bytes(body);
    w.u8(zapi::family_inet);
    w.u8(prefix.length());
    w.bytes({prefix.address().bytes(), 4});
    w.u32(254); // table main
    w.u8(zapi::afi_ip);
    w.u8(zapi::safi_unicast);
    return zapi_frame(zapi::Command::route_notify_owner, std::move(w).take());
}

class FakeZebra {
public:
    FakeZebra(boost::asio::io_context& io, const std::filesystem::path& path) : acceptor_(io)
    {
        acceptor_.open(local());
        acceptor_.bind(local::endpoint(path.string()));
        acceptor_.listen();
        accept();
    }
    // zebra stopping closes its clients. Pending handlers see operation_aborted
    // and return before touching this object.
    ~FakeZebra()
    {
        if (socket_)
            close_client();
    }
    FakeZebra(const FakeZebra&) = delete;
    FakeZebra& operator=(const FakeZebra&) = delete;

    // Frames of each connection so far, the last one current.
    std::vector<std::vector<Received>> sessions;
    std::uint32_t ecmp = 64;
    bool answer_hello = true;

    [[nodiscard]] const std::vector<Received>& current() const { return sessions.back(); }

    void send(const std::vector<std::uint8_t>& bytes) { boost::asio::write(*socket_, boost::asio::buffer(bytes)); }
    void close_client()
    {
        boost::system::error_code ignored;
        socket_->close(ignored);
    }

private:
    void accept()
    {
        acceptor_.async_accept([this](const boost::system::error_code& error, local::socket socket) {
            if (error)
                return;
            socket_ = std::make_shared<local::socket>(std::move(socket));
            sessions.emplace_back();
            splitter_.reset();
            read(socket_);
            accept();
        });
    }

    void read(std::shared_ptr<local::socket> socket)
    {
        socket->async_read_some(boost::asio::buffer(buffer_), [this, socket](const boost::system::error_code& error,
                                                                             std::size_t n) {
            if (error || socket != socket_)
                return;
            splitter_.feed(std::span(buffer_.data(), n));
            for (auto frame = splitter_.next(); frame; frame = splitter_.next()) {
                sessions.back().push_back(decode_received(*frame));
                if (frame->command() == zapi::Command::hello && answer_hello)
                    send(capabilities_frame(ecmp));
            }
            read(socket);
        });
    }

    local::acceptor acceptor_;
    std::shared_ptr<local::socket> socket_;
    routing::FrameSplitter splitter_;
    std::array<std::uint8_t, 4096> buffer_{};
};

// A fresh folder for the socket, removed at the end of the test.
class TempDir {
public:
    TempDir()
    {
        char name[] = "/tmp/mesh-routing-test-XXXXXX";
        REQUIRE(::mkdtemp(name) != nullptr);
        path_ = name;
    }
    ~TempDir() { std::filesystem::remove_all(path_); }
    TempDir(const TempDir&) = delete;
    TempDir& operator=(const TempDir&) = delete;
    [[nodiscard]] const std::filesystem::path& path() const { return path_; }

private:
    std::filesystem::path path_;
};

// Runs io until pred() holds; false after `limit`.
inline bool run_until(boost::asio::io_context& io, const std::function<bool()>& pred,
                      std::chrono::milliseconds limit = std::chrono::seconds(5))
{
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        if (io.stopped())
            io.restart();
        io.run_for(std::chrono::milliseconds(5));
    }
    return true;
}

} // namespace mesh::test
