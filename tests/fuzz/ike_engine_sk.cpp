// libFuzzer target: the IKE engine past SK decryption. Two engines set up an
// IKE SA under fixed keys (a fixed-seed generator makes every nonce, SPI and
// DH key the same in every run); the fuzzer's bytes then become the plaintext
// payload chains of SK (or SKF) messages sealed with those keys, as if from
// the peer, so the handlers of encrypted payloads are reached: INFORMATIONAL
// Delete and Notify, CREATE_CHILD_SA (CHILD and IKE rekeys, new CHILD SAs),
// IKE_AUTH out of turn, fragments, and answers to the target's own rekeys.
// The fixed IKE_AUTH carries mode config (A requests, B leases 10.99.0.7), so
// the CHILD SAs the fuzzer asks for are narrowed with the leased address.
//
// Input, a sequence of messages, each
//   control (1) | first payload (1) | fragment (1) | length (2) | plaintext (length)
// control bits 0-1: exchange (IKE_AUTH, CREATE_CHILD_SA, INFORMATIONAL, IKE_SA_INIT)
//              2:   response (to the target's request) rather than request
//              3:   in an SKF payload, fragment = number << 4 | total; without
//                   it, fragment is the seconds that pass first (beyond one):
//                   liveness checks, lifetimes and their answers
//              4:   the target rekeys its CHILD SA first
//              5:   the target rekeys its IKE SA first
//              6-7: message ID: the next expected + 0..2, or the last one (a retransmission)
// Nothing may crash the engine; what it sends must itself parse.

#include "ike/identity.hpp"
#include "ike/ike_engine.hpp"
#include "ike/message.hpp"
#include "ike/sk_cipher.hpp"

#include <botan/rng.h>
#include <botan/stream_cipher.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <memory>
#include <optional>

namespace {

using namespace mesh::ike;
using mesh::net::Endpoint;
using mesh::net::IpAddress;

// ChaCha20's keystream under a fixed key: the same keys in every run.
class FixedRng final : public Botan::RandomNumberGenerator {
public:
    FixedRng() : cipher_(Botan::StreamCipher::create_or_throw("ChaCha(20)"))
    {
        const std::uint8_t key[32] = {'m', 'e', 's', 'h', '-', 'f', 'u', 'z', 'z'};
        const std::uint8_t iv[8] = {};
        cipher_->set_key(key, sizeof key);
        cipher_->set_iv(iv, sizeof iv);
    }
    void randomize(std::uint8_t output[], std::size_t length) override
    {
        std::fill_n(output, length, std::uint8_t{0});
        cipher_->cipher1(output, length);
    }
    bool accepts_input() const override { return false; }
    void add_entropy(const std::uint8_t[], std::size_t) override {}
    std::string name() const override { return "fixed"; }
    void clear() override {}
    bool is_seeded() const override { return true; }

private:
    std::unique_ptr<Botan::StreamCipher> cipher_;
};

struct Datagram {
    Endpoint from, to;
    std::vector<std::uint8_t> bytes;
};

struct Host : IkeHost {
    explicit Host(std::deque<Datagram>& wire, std::uint32_t first_spi) : wire(wire), spi(first_spi) {}
    void send(const Endpoint& local, const Endpoint& remote, std::span<const std::uint8_t> message) override
    {
        if (!parse(message))
            std::abort();   // we must never send what we cannot read
        wire.push_back({local, remote, {message.begin(), message.end()}});
    }
    std::uint32_t allocate_spi() override { return ++spi; }
    bool install_child(const ChildSaInstall& child) override
    {
        installed.push_back(child.inbound.spi);
        return true;
    }
    void use_outbound(const std::string&, std::uint32_t, const Endpoint&, bool) override {}
    void delete_child(const std::string&, std::uint32_t) override {}
    void move_child(const std::string&, std::uint32_t, const Endpoint&) override {}
    std::uint64_t inbound_packets(std::uint32_t) const override { return 0; }
    std::uint64_t child_bytes(std::uint32_t) const override { return 0; }
    std::uint32_t path_mtu(const Endpoint&) const override { return 1280; }
    ModeConfig lease_attributes(const ModeConfigLease&) override
    {
        ModeConfig given;
        given.address4 = *mesh::net::IpPrefix::parse("10.99.0.7/32");
        given.subnets = {*mesh::net::IpPrefix::parse("10.1.0.0/24")};
        return given;
    }
    std::deque<Datagram>& wire;
    std::uint32_t spi;
    std::vector<std::uint32_t> installed;
};

PeerConfig peer(const char* name, const char* address, const char* my_id, const char* remote_id)
{
    PeerConfig p;
    p.name = name;
    p.address = *mesh::net::IpPrefix::parse(address);
    p.ike.ciphers = {IkeCipher::aes128_gcm};
    p.ike.prfs = {PrfId::hmac_sha2_256};
    p.ike.dh_groups = {DhGroup::curve25519};
    p.psk = {'f', 'u', 'z', 'z'};
    p.my_id = *parse_identity(my_id);
    p.remote_id = *parse_identity(remote_id);
    ChildConfig child;
    child.name = std::string("to-") + name;
    child.policy.ciphers = {mesh::tunnel::EspCipher::aes128_gcm};
    p.children.push_back(child);
    return p;
}

const Endpoint a_ike{*IpAddress::parse("192.0.2.1"), 500}, a_natt{*IpAddress::parse("192.0.2.1"), 4500};
const Endpoint b_ike{*IpAddress::parse("192.0.2.2"), 500}, b_natt{*IpAddress::parse("192.0.2.2"), 4500};

constexpr ExchangeType exchanges[] = {ExchangeType::ike_auth, ExchangeType::create_child_sa,
                                      ExchangeType::informational, ExchangeType::ike_sa_init};

} // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***)
{
    // The engine's warnings (tens of thousands a run) would drown libFuzzer's output.
    spdlog::set_level(spdlog::level::off);
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    // A (the peer the fuzzer speaks for) initiates; B, the target, answers.
    FixedRng rng;
    std::deque<Datagram> wire;
    Host a_host(wire, 0x1000), b_host(wire, 0x2000);
    auto b_side = peer("a", "192.0.2.1", "fqdn:b.fuzz", "fqdn:a.fuzz");
    b_side.passive = true;
    b_side.mode_config = ModeConfigRole::serve;
    auto a_side = peer("b", "192.0.2.2", "fqdn:a.fuzz", "fqdn:b.fuzz");
    a_side.mode_config = ModeConfigRole::request;
    IkeEngine a(a_host, {std::move(a_side)}, a_ike, a_natt, rng);
    IkeEngine b(b_host, {std::move(b_side)}, b_ike, b_natt, rng);
    auto now = Clock::time_point{} + std::chrono::hours(1);
    a.start(now);
    now += std::chrono::seconds(1);
    a.on_tick(now);
    for (int guard = 0; guard < 10 && !wire.empty(); ++guard) {
        const Datagram d = std::move(wire.front());
        wire.pop_front();
        (d.to.address == a_ike.address ? a : b).on_datagram(d.to, d.from, d.bytes, now);
    }
    const auto keys = b.keys();
    if (keys.size() != 1 || b_host.installed.size() != 1 || !b.status(now).front().leased)
        std::abort();   // the fixed exchange itself failed
    auto sk = SkCipher::create(keys.front().suite, *keys.front().keys, SkSide::original_initiator, rng);
    if (!sk)
        std::abort();

    std::uint32_t next_request = 2;    // after IKE_SA_INIT (0) and IKE_AUTH (1)
    std::span<const std::uint8_t> rest(data, size);
    while (rest.size() >= 5) {
        const std::uint8_t control = rest[0];
        const auto first = static_cast<PayloadType>(rest[1]);
        const std::uint8_t fragment = rest[2];
        const std::size_t length = std::min<std::size_t>(rest.size() - 5, rest[3] << 8 | rest[4]);
        const auto plaintext = rest.subspan(5, length);
        rest = rest.subspan(5 + length);

        if ((control & 0x10) != 0 && !b_host.installed.empty())
            b.rekey_child(b_host.installed.back(), now);
        if ((control & 0x20) != 0)
            b.rekey_ike("a", now);
        now += std::chrono::seconds(1 + ((control & 0x08) != 0 ? 0 : fragment));
        wire.clear();
        b.on_tick(now);
        const auto status = b.status(now);
        if (std::none_of(status.begin(), status.end(), [&](const IkeSaStatus& sa) {
                return sa.spi_i == keys.front().spi_i && sa.spi_r == keys.front().spi_r;
            }))
            break;   // the keyed IKE SA is gone: nothing more reaches the handlers

        Message message;
        message.header.spi_i = keys.front().spi_i;
        message.header.spi_r = keys.front().spi_r;
        message.header.exchange_type = exchanges[control & 0x03];
        message.header.response = (control & 0x04) != 0;
        message.header.initiator = true;
        const std::uint32_t offset = control >> 6;
        if (message.header.response)
            message.header.message_id = offset;   // the target's own requests count from 0
        else
            message.header.message_id = offset == 3 ? next_request - 1 : next_request + offset;
        if ((control & 0x08) != 0)
            message.payloads.push_back(
                SkfPayload{first, static_cast<std::uint16_t>(fragment >> 4), static_cast<std::uint16_t>(fragment & 0x0f), {}});
        else
            message.payloads.push_back(SkPayload{first, {}});
        auto datagram = associated_data(message, sk->sealed_size(plaintext.size()));
        if (datagram.empty())
            continue;
        const auto body = sk->seal(datagram, plaintext);
        if (!body)
            std::abort();
        datagram.insert(datagram.end(), body->begin(), body->end());
        b.on_datagram(b_natt, a_natt, datagram, now);
        for (const auto& sent : wire) {
            const auto header = parse_header(sent.bytes);
            if (header && header->response && !message.header.response && header->message_id == next_request)
                ++next_request;
        }
    }
    return 0;
}
