// libFuzzer target: arbitrary datagrams into a responder IKE engine (and, for
// the bytes that parse, every later state it reaches). Nothing a peer sends
// may crash it; what it sends back must itself parse.

#include "ike/identity.hpp"
#include "ike/ike_engine.hpp"
#include "ike/message.hpp"

#include <botan/hmac_drbg.h>
#include <botan/mac.h>
#include <spdlog/spdlog.h>

#include <cstdlib>
#include <memory>

namespace {

using namespace mesh::ike;
using mesh::net::Endpoint;
using mesh::net::IpAddress;

struct Host : IkeHost {
    void send(const Endpoint&, const Endpoint&, std::span<const std::uint8_t> message) override
    {
        if (!parse(message))
            std::abort();   // we must never send what we cannot read
    }
    std::uint32_t allocate_spi() override { return ++spi; }
    bool install_child(const ChildSaInstall&) override { return true; }
    void use_outbound(const std::string&, std::uint32_t, const Endpoint&, bool) override {}
    void delete_child(const std::string&, std::uint32_t) override {}
    void move_child(const std::string&, std::uint32_t, const mesh::net::Endpoint&) override {}
    std::uint64_t inbound_packets(std::uint32_t) const override { return 0; }
    std::uint64_t child_bytes(std::uint32_t) const override { return 0; }
    std::uint32_t path_mtu(const Endpoint&) const override { return 1500; }
    std::uint32_t spi = 0x1000;
};

PeerConfig any_peer()
{
    PeerConfig p;
    p.name = "fuzz";
    p.address = *mesh::net::IpPrefix::parse("0.0.0.0/0");
    p.passive = true;
    p.ike.ciphers = {IkeCipher::aes128_gcm, IkeCipher::aes128_cbc};
    p.ike.prfs = {PrfId::hmac_sha2_256};
    p.ike.dh_groups = {DhGroup::curve25519, DhGroup::ecp256};
    p.psk = {'k', 'e', 'y'};
    ChildConfig child;
    child.name = "t";
    child.policy.ciphers = {mesh::tunnel::EspCipher::aes128_gcm};
    p.children.push_back(child);
    return p;
}

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    // The engine's warnings (25,000 in a 30 s run) would drown libFuzzer's output.
    spdlog::set_level(spdlog::level::off);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    // A deterministic RNG keeps runs reproducible.
    Botan::HMAC_DRBG rng(Botan::MessageAuthenticationCode::create_or_throw("HMAC(SHA-256)"));
    rng.initialize_with(data, std::min<std::size_t>(size, 32));
    Host host;
    const Endpoint local{*IpAddress::parse("192.0.2.2"), 500}, natt{*IpAddress::parse("192.0.2.2"), 4500};
    const Endpoint remote{*IpAddress::parse("192.0.2.1"), 500};
    IkeEngine engine(host, {any_peer()}, local, natt, rng);
    auto now = Clock::time_point{} + std::chrono::hours(1);
    engine.start(now);
    // The input is a sequence of datagrams, each prefixed by a 2-byte length.
    std::span<const std::uint8_t> rest(data, size);
    while (rest.size() >= 2) {
        const std::size_t n = std::min<std::size_t>(rest.size() - 2, rest[0] << 8 | rest[1]);
        engine.on_datagram(local, remote, rest.subspan(2, n), now);
        rest = rest.subspan(2 + n);
        now += std::chrono::milliseconds(700);
        engine.on_tick(now);
    }
    return 0;
}
