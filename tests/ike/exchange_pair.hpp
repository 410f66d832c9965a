#pragma once
// Two IKE engines in one process, their datagrams carried by fake hosts, so
// each exchange can be stepped, dropped or repeated deterministically. A is
// 192.0.2.1 and initiates; B is 192.0.2.2 and passive unless it initiates too.
//
// The hosts also keep what a data plane would: the CHILD SAs of each end and
// the one it sends on, the newest taking over when that one is deleted. `lost` counts the moments a packet could be lost:
// an end starting to send on an SA the other has no inbound SA for (once the
// other has a tunnel at all), or an end removing an inbound SA the other
// still sends on (make-before-break).

#include "ike/identity.hpp"
#include "ike/ike_engine.hpp"
#include "test_rng.hpp"

#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace exchange_pair {

using namespace mesh::ike;
using mesh::net::Endpoint;
using mesh::net::IpAddress;
using mesh::net::IpPrefix;

struct Datagram {
    Endpoint from, to;
    std::vector<std::uint8_t> bytes;
};

// One host call, in the order both hosts saw them.
struct HostEvent {
    enum Kind { install_inbound, use_outbound, delete_inbound } kind;
    char host;            // 'a' or 'b'
    std::uint32_t spi;
};

struct FakeHost : IkeHost {
    std::deque<Datagram>* wire = nullptr;
    std::vector<HostEvent>* events = nullptr;
    FakeHost* other = nullptr;
    char name = 'a';
    std::vector<ChildSaInstall> installed;
    std::vector<std::uint32_t> deleted;
    std::vector<Endpoint> moved_to;                  // move_child calls: where the peer went
    std::vector<mesh::tunnel::SaParams> outbound_used;   // by use_outbound
    std::set<std::uint32_t> inbound;                      // the data plane's inbound SAs
    std::vector<std::pair<std::uint32_t, std::uint32_t>> sas;   // inbound and outbound SPI, oldest first
    std::uint32_t outbound = 0;                           // the SA we send on (0: none)
    int* lost = nullptr;
    std::uint32_t next_spi = 0x1000;
    std::map<std::uint32_t, std::uint64_t> esp_packets;   // inbound ESP the test pretends arrived
    std::map<std::uint32_t, std::uint64_t> esp_bytes;     // bytes the test pretends a CHILD SA carried
    std::uint32_t mtu = 1500;                             // of the path to the other end
    // Mode config: the responder's answer (unset: nothing), the leases it was
    // told ended, what the initiator was given.
    std::function<ModeConfig(const ModeConfigLease&)> lease;
    std::vector<ModeConfigLease> leases_ended;
    std::vector<ModeConfig> received;
    std::vector<std::string> resolve_asked;   // resolve_peer calls: peers named by DNS

    void send(const Endpoint& local, const Endpoint& remote, std::span<const std::uint8_t> message) override
    {
        wire->push_back({local, remote, {message.begin(), message.end()}});
    }
    std::uint32_t allocate_spi() override { return next_spi++; }
    bool install_child(const ChildSaInstall& child) override
    {
        installed.push_back(child);
        inbound.insert(child.inbound.spi);
        sas.emplace_back(child.inbound.spi, child.outbound.spi);
        record(HostEvent::install_inbound, child.inbound.spi);
        if (child.use_outbound)
            start_sending(child.outbound.spi);
        return true;
    }
    void use_outbound(const std::string&, std::uint32_t inbound_spi, const Endpoint&, bool) override
    {
        const auto it = std::find_if(installed.begin(), installed.end(),
                                     [&](const ChildSaInstall& c) { return c.inbound.spi == inbound_spi; });
        if (it == installed.end())
            throw std::logic_error("use_outbound of an SA never installed");
        outbound_used.push_back(it->outbound);
        start_sending(it->outbound.spi);
    }
    void delete_child(const std::string&, std::uint32_t spi) override
    {
        deleted.push_back(spi);
        record(HostEvent::delete_inbound, spi);
        if (other != nullptr && lost != nullptr && other->outbound == spi)
            ++*lost;
        inbound.erase(spi);
        const auto it = std::find_if(sas.begin(), sas.end(), [&](const auto& sa) { return sa.first == spi; });
        if (it == sas.end())
            return;
        const bool was_sending = it->second == outbound;
        sas.erase(it);
        if (was_sending)
            outbound = sas.empty() ? 0 : sas.back().second;
    }
    void move_child(const std::string&, std::uint32_t, const Endpoint& remote) override { moved_to.push_back(remote); }
    std::uint64_t inbound_packets(std::uint32_t spi) const override
    {
        const auto it = esp_packets.find(spi);
        return it == esp_packets.end() ? 0 : it->second;
    }
    std::uint32_t path_mtu(const Endpoint&) const override { return mtu; }
    ModeConfig lease_attributes(const ModeConfigLease& asked) override { return lease ? lease(asked) : ModeConfig{}; }
    void lease_ended(const ModeConfigLease& ended) override { leases_ended.push_back(ended); }
    bool attributes_received(const std::string&, const ModeConfig& given) override
    {
        received.push_back(given);
        return true;
    }
    void resolve_peer(const std::string& peer) override { resolve_asked.push_back(peer); }
    std::uint64_t child_bytes(std::uint32_t spi) const override
    {
        const auto it = esp_bytes.find(spi);
        return it == esp_bytes.end() ? 0 : it->second;
    }

private:
    void start_sending(std::uint32_t spi)
    {
        record(HostEvent::use_outbound, spi);
        // The first SA of IKE_AUTH is the responder's to send on first: the
        // initiator has no tunnel yet, so only a tunnel that is up can lose.
        if (other != nullptr && lost != nullptr && !other->inbound.empty() && !other->inbound.contains(spi))
            ++*lost;
        outbound = spi;
    }
    void record(HostEvent::Kind kind, std::uint32_t spi)
    {
        if (events != nullptr)
            events->push_back({kind, name, spi});
    }
};

inline PeerConfig peer(const char* name, const char* address, const char* local, const char* my_id,
                       const char* remote_id, const char* secret)
{
    PeerConfig p;
    p.name = name;
    p.address = *IpPrefix::parse(address);
    p.local_address = IpAddress::parse(local);
    p.ike.ciphers = {IkeCipher::aes256_gcm};
    p.ike.prfs = {PrfId::hmac_sha2_256};
    p.ike.dh_groups = {DhGroup::ecp256};
    const std::string s(secret);
    p.psk.assign(s.begin(), s.end());
    p.my_id = *parse_identity(my_id);
    p.remote_id = *parse_identity(remote_id);
    ChildConfig child;
    child.name = std::string("to-") + name;
    child.mode = ChildMode::transport_gre;
    child.policy.ciphers = {mesh::tunnel::EspCipher::aes128_gcm};
    child.policy.integrities = {mesh::tunnel::EspIntegrity::hmac_sha256_128};
    p.children.push_back(child);
    return p;
}

struct Pair {
    explicit Pair(PeerConfig a_side, PeerConfig b_side, IkeLimits b_limits = {}, bool b_initiates = false)
    {
        a_host.wire = &wire;
        b_host.wire = &wire;
        a_host.events = &events;
        b_host.events = &events;
        a_host.other = &b_host;
        b_host.other = &a_host;
        a_host.lost = &lost;
        b_host.lost = &lost;
        b_host.name = 'b';
        b_host.next_spi = 0x2000;
        a = std::make_unique<IkeEngine>(a_host, std::vector{std::move(a_side)}, a_ike, a_natt, a_rng);
        b_side.passive = !b_initiates;
        b = std::make_unique<IkeEngine>(b_host, std::vector{std::move(b_side)}, b_ike, b_natt, b_rng, b_limits);
        a->start(now);
        b->start(now);
    }
    // Delivers every datagram in flight (and those they cause) to its engine.
    void deliver_all()
    {
        for (int guard = 0; !wire.empty() && guard < 100; ++guard) {
            Datagram d = std::move(wire.front());
            wire.pop_front();
            deliver(d);
        }
    }
    void deliver(const Datagram& d)
    {
        IkeEngine& to = d.to.address == a_ike.address ? *a : *b;
        to.on_datagram(d.to, d.from, d.bytes, now);
    }
    void tick(std::chrono::milliseconds step)
    {
        now += step;
        a->on_tick(now);
        b->on_tick(now);
    }

    // The nonce rule of RFC 7296 section 2.8.1, decided: the next exchange
    // `end` starts holds the lowest nonce of a collision, its Ni beginning
    // with 0x00 and every later nonce of either end with 0x80.
    // `draws_before_nonce`: the 32-byte draws (ecp256 private keys) the end
    // makes before that Ni (an IKE rekey makes its key first).
    void lowest_nonce_at(char end, int draws_before_nonce = 0)
    {
        test_rng::TestRng& lowest = end == 'a' ? a_rng : b_rng;
        test_rng::TestRng& other = end == 'a' ? b_rng : a_rng;
        lowest.first_bytes.assign(static_cast<std::size_t>(draws_before_nonce), 0x80);
        lowest.first_bytes.push_back(0x00);
        lowest.first_bytes.push_back(0x80);
        other.first_bytes = {0x80};
    }

    test_rng::TestRng rng{"pair"};          // for the test's own keys and ciphers
    test_rng::TestRng a_rng{"a"}, b_rng{"b"};
    std::deque<Datagram> wire;
    std::vector<HostEvent> events;
    int lost = 0;
    FakeHost a_host, b_host;
    Endpoint a_ike{*IpAddress::parse("192.0.2.1"), 500}, a_natt{*IpAddress::parse("192.0.2.1"), 4500};
    Endpoint b_ike{*IpAddress::parse("192.0.2.2"), 500}, b_natt{*IpAddress::parse("192.0.2.2"), 4500};
    Clock::time_point now{};
    std::unique_ptr<IkeEngine> a, b;
};

inline PeerConfig a_to_b(const char* secret = "lab-secret")
{
    return peer("b", "192.0.2.2", "192.0.2.1", "fqdn:a.lab", "fqdn:b.lab", secret);
}
inline PeerConfig b_to_a(const char* secret = "lab-secret")
{
    return peer("a", "192.0.2.1", "192.0.2.2", "fqdn:b.lab", "fqdn:a.lab", secret);
}

} // namespace exchange_pair
