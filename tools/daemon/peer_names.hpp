#pragma once
// Peers named by DNS (address = "branch1.example.net"). The control thread
// never waits on a resolver:
//
//   lookup(peer)   getaddrinfo on a thread of its own, one lookup per peer at a time
//   -> answer      posted back to the control thread
//   -> resolved    the address handed on (the IKE engine matches and initiates with it),
//                  the next lookup after resolve-interval
//   -> failure     logged with the resolver's own words, looked up again after
//                  10 s, doubling up to resolve-interval; never fatal
//
// A lookup happens at start, whenever IKE is about to (re-)initiate to the
// peer (after a failure, or when DPD declared it dead), and every
// resolve-interval. Of several addresses the one in use is kept while the
// name still gives it (round-robin DNS moves no tunnel); else the first.

#include "tools/config/config.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <nlohmann/json.hpp>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace mesh::daemon {

// What getaddrinfo said: the addresses, or its error in gai_strerror's words.
struct LookupAnswer {
    std::vector<net::IpAddress> addresses;
    std::string error;
};

// Runs getaddrinfo off the calling thread; the answer is posted to io.
// Answers still out when the resolver goes are dropped, and their threads
// end on their own (getaddrinfo cannot be cancelled).
class NameResolver {
public:
    explicit NameResolver(boost::asio::io_context& io);
    ~NameResolver();
    NameResolver(const NameResolver&) = delete;
    NameResolver& operator=(const NameResolver&) = delete;

    // family: AF_INET or AF_INET6.
    void lookup(const std::string& name, int family, std::function<void(LookupAnswer)> done);

private:
    struct Shared;
    std::shared_ptr<Shared> shared_;
};

class PeerNames {
public:
    // Called on the control thread with every address a lookup gives, changed or not.
    using Resolved = std::function<void(const config::Peer& peer, const net::IpAddress& address)>;

    PeerNames(boost::asio::io_context& io, const config::Config& config, Resolved resolved);

    // Looks up every named peer.
    void start();
    // Looks the peer up now, unless a lookup of it is out already, or the
    // last one failed and its retry is set.
    void resolve(const std::string& peer);
    // The peer's address from its name; nullopt if unnamed or not resolved yet.
    [[nodiscard]] std::optional<net::IpAddress> address(const std::string& peer) const;
    // status' "peer-names": per named peer its name, address (or "unresolved") and last error.
    [[nodiscard]] nlohmann::json status() const;
    [[nodiscard]] bool empty() const noexcept { return entries_.empty(); }

private:
    struct Entry {
        const config::Peer* peer = nullptr;
        std::optional<net::IpAddress> address;
        std::string error;                                   // the last lookup's, until one succeeds
        std::chrono::steady_clock::time_point resolved_at{};
        std::chrono::seconds retry{0};                       // after failures: 10 s, doubling
        bool in_flight = false;
        std::unique_ptr<boost::asio::steady_timer> timer;    // the next lookup
    };

    void lookup(Entry& entry);
    void answered(Entry& entry, LookupAnswer answer);

    NameResolver resolver_;
    std::map<std::string, Entry> entries_;   // by peer name
    Resolved resolved_;
};

} // namespace mesh::daemon
