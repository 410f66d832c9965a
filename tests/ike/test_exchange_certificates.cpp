// IKE_AUTH with certificates between two in-process engines: A signs with an
// ECDSA key, B with an RSA key, both chains issued by the lab CA (pki_helpers).
//   IKE_AUTH  HDR, SK{IDi, CERT, CERTREQ, IDr, AUTH, SAi2, TSi, TSr}  -->
//                           <--  HDR, SK{IDr, CERT, AUTH, SAr2, TSi, TSr}

#include "exchange_pair.hpp"
#include "ike/certificates.hpp"
#include "ike/identity.hpp"
#include "ike/ike_engine.hpp"
#include "pki_helpers.hpp"

#include "test_rng.hpp"
#include <botan/data_src.h>
#include <botan/pkcs8.h>
#include <doctest/doctest.h>

#include <deque>

using namespace mesh::ike;
using mesh::net::Endpoint;
using mesh::net::IpAddress;
using mesh::net::IpPrefix;

namespace {

struct Wire : IkeHost {
    std::deque<std::tuple<Endpoint, Endpoint, std::vector<std::uint8_t>>>* queue = nullptr;
    std::vector<ChildSaInstall> installed;
    std::uint32_t next_spi = 0x1000;
    void send(const Endpoint& local, const Endpoint& remote, std::span<const std::uint8_t> m) override
    {
        queue->emplace_back(local, remote, std::vector<std::uint8_t>(m.begin(), m.end()));
    }
    std::uint32_t allocate_spi() override { return next_spi++; }
    bool install_child(const ChildSaInstall& child) override
    {
        installed.push_back(child);
        return true;
    }
    void use_outbound(const std::string&, std::uint32_t, const Endpoint&, bool) override {}
    void delete_child(const std::string&, std::uint32_t) override {}
    void move_child(const std::string&, std::uint32_t, const mesh::net::Endpoint&) override {}
    std::uint64_t inbound_packets(std::uint32_t) const override { return 0; }
    std::uint64_t child_bytes(std::uint32_t) const override { return 0; }
    std::uint32_t path_mtu(const Endpoint&) const override { return mtu; }
    std::uint32_t mtu = 1500;
};

std::unique_ptr<Botan::Private_Key> copy_key(const Botan::Private_Key& key)
{
    Botan::DataSource_Memory der(Botan::PKCS8::BER_encode(key));
    return Botan::PKCS8::load_key(der);
}

PeerConfig signing_peer(const char* name, const char* address, const char* local, const test_pki::Issued& ours,
                        const char* my_id, const char* remote_id)
{
    PeerConfig p = exchange_pair::peer(name, address, local, my_id, remote_id, "");
    p.psk.clear();
    p.auth = PeerAuth::digital_signature;
    p.credentials = std::make_shared<const LocalCredentials>(LocalCredentials{ours.cert, copy_key(*ours.key), {}});
    const auto& lab = test_pki::lab();
    p.trust = std::make_shared<const TrustAnchor>(std::vector{lab.root.cert}, lab.crl);
    return p;
}

struct CertPair {
    // path_mtu: both hosts report it, and the wire drops every datagram
    // whose IPv4 packet (with the non-ESP marker) would not fit it, as a
    // path that loses IP fragments does.
    CertPair(PeerConfig a_side, PeerConfig b_side, std::uint32_t path_mtu = 1500)
    {
        a_host.queue = &queue;
        b_host.queue = &queue;
        a_host.mtu = path_mtu;
        b_host.mtu = path_mtu;
        b_side.passive = true;
        a = std::make_unique<IkeEngine>(a_host, std::vector{std::move(a_side)}, a_ike, a_natt, rng);
        b = std::make_unique<IkeEngine>(b_host, std::vector{std::move(b_side)}, b_ike, b_natt, rng);
        a->start(now);
        b->start(now);
        now += std::chrono::seconds(1);
        a->on_tick(now);
        for (int guard = 0; !queue.empty() && guard < 50; ++guard) {
            auto [from, to, bytes] = std::move(queue.front());
            queue.pop_front();
            largest = std::max(largest, bytes.size());
            if (bytes.size() + 20 + 8 + 4 > path_mtu) {
                ++dropped;
                continue;
            }
            (to.address == a_ike.address ? *a : *b).on_datagram(to, from, bytes, now);
        }
    }
    test_rng::TestRng rng{"test_exchange_certificates"};
    std::deque<std::tuple<Endpoint, Endpoint, std::vector<std::uint8_t>>> queue;
    Wire a_host, b_host;
    Endpoint a_ike{*IpAddress::parse("192.0.2.1"), 500}, a_natt{*IpAddress::parse("192.0.2.1"), 4500};
    Endpoint b_ike{*IpAddress::parse("192.0.2.2"), 500}, b_natt{*IpAddress::parse("192.0.2.2"), 4500};
    Clock::time_point now{};
    std::unique_ptr<IkeEngine> a, b;
    std::size_t largest = 0;   // the largest datagram either end sent
    int dropped = 0;           // datagrams too large for the path
};

} // namespace

TEST_CASE("certificates: ECDSA and RSA signatures authenticate both sides and the CHILD SA is installed")
{
    const auto& lab = test_pki::lab();
    CertPair p(signing_peer("b", "192.0.2.2", "192.0.2.1", lab.ecdsa_leaf, "fqdn:site-a.lab", "fqdn:site-b.lab"),
               signing_peer("a", "192.0.2.1", "192.0.2.2", lab.rsa_leaf, "fqdn:site-b.lab", "fqdn:site-a.lab"));
    REQUIRE(p.a_host.installed.size() == 1);
    REQUIRE(p.b_host.installed.size() == 1);
    CHECK(p.a_host.installed.front().inbound.spi == p.b_host.installed.front().outbound.spi);
    CHECK(p.a->counters().authentication_failed == 0);
}

TEST_CASE("certificates: a revoked certificate is refused with AUTHENTICATION_FAILED")
{
    const auto& lab = test_pki::lab();
    CertPair p(signing_peer("b", "192.0.2.2", "192.0.2.1", lab.revoked_leaf, "fqdn:revoked.lab", "fqdn:site-b.lab"),
               signing_peer("a", "192.0.2.1", "192.0.2.2", lab.rsa_leaf, "fqdn:site-b.lab", "fqdn:revoked.lab"));
    CHECK(p.b_host.installed.empty());
    CHECK(p.b->counters().authentication_failed == 1);
}

TEST_CASE("certificates: a certificate from another CA is refused")
{
    const auto& lab = test_pki::lab();
    CertPair p(signing_peer("b", "192.0.2.2", "192.0.2.1", lab.other_leaf, "fqdn:site-a.lab", "fqdn:site-b.lab"),
               signing_peer("a", "192.0.2.1", "192.0.2.2", lab.rsa_leaf, "fqdn:site-b.lab", "fqdn:site-a.lab"));
    CHECK(p.b_host.installed.empty());
    CHECK(p.b->counters().authentication_failed == 1);
}

TEST_CASE("certificates: a valid certificate that does not name the ID sent is refused")
{
    const auto& lab = test_pki::lab();
    CertPair p(signing_peer("b", "192.0.2.2", "192.0.2.1", lab.ecdsa_leaf, "fqdn:not-site-a.lab", "fqdn:site-b.lab"),
               signing_peer("a", "192.0.2.1", "192.0.2.2", lab.rsa_leaf, "fqdn:site-b.lab", "fqdn:not-site-a.lab"));
    CHECK(p.b_host.installed.empty());
    CHECK(p.b->counters().authentication_failed == 1);
}

TEST_CASE("certificates over a 576-byte path: IKE_AUTH goes in fragments (RFC 7383), each one fitting the path")
{
    const auto& lab = test_pki::lab();
    CertPair whole(signing_peer("b", "192.0.2.2", "192.0.2.1", lab.ecdsa_leaf, "fqdn:site-a.lab", "fqdn:site-b.lab"),
                   signing_peer("a", "192.0.2.1", "192.0.2.2", lab.rsa_leaf, "fqdn:site-b.lab", "fqdn:site-a.lab"));
    REQUIRE(whole.largest > 576);   // the certificates make IKE_AUTH too big for the path below
    CHECK(whole.a->counters().messages_fragmented == 0);   // fragments only where the message does not fit

    CertPair p(signing_peer("b", "192.0.2.2", "192.0.2.1", lab.ecdsa_leaf, "fqdn:site-a.lab", "fqdn:site-b.lab"),
               signing_peer("a", "192.0.2.1", "192.0.2.2", lab.rsa_leaf, "fqdn:site-b.lab", "fqdn:site-a.lab"), 576);
    CHECK(p.dropped == 0);
    CHECK(p.largest <= 576 - 20 - 8 - 4);
    REQUIRE(p.a_host.installed.size() == 1);
    REQUIRE(p.b_host.installed.size() == 1);
    CHECK(p.a_host.installed.front().inbound.spi == p.b_host.installed.front().outbound.spi);
    CHECK(p.a->counters().messages_fragmented == 1);    // the request
    CHECK(p.b->counters().messages_reassembled == 1);
    CHECK(p.b->counters().messages_fragmented == 1);    // the answer
    CHECK(p.a->counters().messages_reassembled == 1);
    CHECK(p.a->status(p.now).front().fragmentation);
}
