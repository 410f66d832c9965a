#include "tools/daemon/peer_names.hpp"

#include "tools/log/log.hpp"

#include <boost/asio/post.hpp>

#include <netdb.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <mutex>
#include <thread>

namespace mesh::daemon {

namespace {
constexpr std::chrono::seconds first_retry{10};

LookupAnswer getaddrinfo_answer(const std::string& name, int family)
{
    addrinfo hints{};
    hints.ai_family = family;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* list = nullptr;
    const int rc = ::getaddrinfo(name.c_str(), nullptr, &hints, &list);
    if (rc != 0)
        return {{}, rc == EAI_SYSTEM ? std::strerror(errno) : ::gai_strerror(rc)};
    LookupAnswer answer;
    for (const addrinfo* a = list; a != nullptr; a = a->ai_next) {
        const auto endpoint = net::Endpoint::from_sockaddr(a->ai_addr, a->ai_addrlen);
        if (endpoint && std::ranges::find(answer.addresses, endpoint->address) == answer.addresses.end())
            answer.addresses.push_back(endpoint->address);
    }
    ::freeaddrinfo(list);
    if (answer.addresses.empty())
        answer.error = ::gai_strerror(EAI_NODATA);
    return answer;
}

std::string seconds_text(std::chrono::seconds s)
{
    return std::to_string(s.count()) + " s";
}
} // namespace

// The lookup threads and the resolver share this; io is cleared when the
// resolver goes, under the mutex, so a late thread posts nothing.
struct NameResolver::Shared {
    explicit Shared(boost::asio::io_context& context) : io(&context) {}
    std::mutex mutex;
    boost::asio::io_context* io;
};

NameResolver::NameResolver(boost::asio::io_context& io) : shared_(std::make_shared<Shared>(io)) {}

NameResolver::~NameResolver()
{
    const std::lock_guard lock(shared_->mutex);
    shared_->io = nullptr;
}

void NameResolver::lookup(const std::string& name, int family, std::function<void(LookupAnswer)> done)
{
    std::thread([shared = shared_, name, family, done = std::move(done)]() mutable {
        LookupAnswer answer = getaddrinfo_answer(name, family);
        const std::lock_guard lock(shared->mutex);
        if (shared->io == nullptr)
            return;
        boost::asio::post(*shared->io, [weak = std::weak_ptr(shared), done = std::move(done),
                                        answer = std::move(answer)]() mutable {
            // On the control thread, as the resolver's destructor: no lock needed.
            if (const auto alive = weak.lock(); alive && alive->io != nullptr)
                done(std::move(answer));
        });
    }).detach();
}

PeerNames::PeerNames(boost::asio::io_context& io, const config::Config& config, Resolved resolved)
    : resolver_(io), resolved_(std::move(resolved))
{
    for (const auto& [name, peer] : config.peers) {
        if (!peer.host_name)
            continue;
        Entry& entry = entries_[name];
        entry.peer = &peer;
        entry.timer = std::make_unique<boost::asio::steady_timer>(io);
    }
}

void PeerNames::start()
{
    for (auto& [name, entry] : entries_)
        lookup(entry);
}

void PeerNames::resolve(const std::string& peer)
{
    // After a failure the retry is set already (with its backoff): asking
    // again at once would only hammer a resolver that just said no.
    if (const auto it = entries_.find(peer); it != entries_.end() && !it->second.in_flight && it->second.error.empty())
        lookup(it->second);
}

std::optional<net::IpAddress> PeerNames::address(const std::string& peer) const
{
    const auto it = entries_.find(peer);
    return it == entries_.end() ? std::nullopt : it->second.address;
}

void PeerNames::lookup(Entry& entry)
{
    entry.timer->cancel();
    entry.in_flight = true;
    const int family = entry.peer->address.address().is_v4() ? AF_INET : AF_INET6;
    resolver_.lookup(*entry.peer->host_name, family,
                     [this, &entry](LookupAnswer answer) { answered(entry, std::move(answer)); });
}

void PeerNames::answered(Entry& entry, LookupAnswer answer)
{
    entry.in_flight = false;
    const config::Peer& peer = *entry.peer;
    std::chrono::seconds next = std::chrono::duration_cast<std::chrono::seconds>(peer.resolve_interval);
    if (!answer.error.empty()) {
        entry.retry = std::clamp(entry.retry * 2, first_retry, std::max(first_retry, next));
        next = entry.retry;
        entry.error = answer.error;
        log::daemon()->warn("peer {}: cannot resolve {}: {}; retrying in {}", peer.name, *peer.host_name,
                            answer.error, seconds_text(next));
    } else {
        entry.retry = std::chrono::seconds(0);
        entry.error.clear();
        entry.resolved_at = std::chrono::steady_clock::now();
        const bool kept = entry.address && std::ranges::find(answer.addresses, *entry.address) != answer.addresses.end();
        const net::IpAddress chosen = kept ? *entry.address : answer.addresses.front();
        if (!entry.address)
            log::daemon()->info("peer {}: {} resolves to {}", peer.name, *peer.host_name, chosen.to_string());
        else if (chosen != *entry.address)
            log::daemon()->info("peer {}: {} now resolves to {} (was {})", peer.name, *peer.host_name,
                                chosen.to_string(), entry.address->to_string());
        entry.address = chosen;
        resolved_(peer, chosen);
    }
    entry.timer->expires_after(next);
    entry.timer->async_wait([this, &entry](const boost::system::error_code& error) {
        if (!error && !entry.in_flight)
            lookup(entry);
    });
}

nlohmann::json PeerNames::status() const
{
    nlohmann::json all = nlohmann::json::array();
    for (const auto& [name, entry] : entries_) {
        nlohmann::json line{{"peer", name},
                            {"name", *entry.peer->host_name},
                            {"address", entry.address ? entry.address->to_string() : "unresolved"},
                            {"resolve-interval-s",
                             std::chrono::duration_cast<std::chrono::seconds>(entry.peer->resolve_interval).count()}};
        if (entry.address)
            line["resolved-age-s"] = std::chrono::duration_cast<std::chrono::seconds>(
                                         std::chrono::steady_clock::now() - entry.resolved_at)
                                         .count();
        if (!entry.error.empty())
            line["error"] = entry.error;
        all.push_back(std::move(line));
    }
    return all;
}

} // namespace mesh::daemon
