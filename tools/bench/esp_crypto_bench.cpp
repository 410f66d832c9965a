// esp_crypto_bench: the crypto ceiling of the data plane (issue 6), on one core.
//
//   1. the AEADs alone (Botan two ways, OpenSSL), seal and open
//   2. ESP through the data plane's own OutboundSa::seal / InboundSa::open
//      (padding, trailer, header, IV, AAD, replay check and window, counters)
//   3. ESP's cost over its AEAD, and the other per-packet steps of the data
//      plane outside crypto (GRE, replay window, MSS clamp), in ns
//
// Sizes are ESP payloads (the GRE packet in mode gre): 64, 512 and 1400 bytes
// in rounds of 16 packets, and a 64 KiB burst, 46 packets of 1400 bytes
// back to back in distinct buffers, as one TSO super-packet becomes. Gbit/s
// counts payload bytes. Each figure is the median round
// (tools/bench/harness.hpp says why).
//
// usage: esp_crypto_bench

#include "tools/bench/harness.hpp"
#include "tools/bench/raw_aead.hpp"

#include "gre/gre.hpp"
#include "tunnel/esp_sa.hpp"
#include "tunnel/mss_clamp.hpp"
#include "tunnel/packet_buffer.hpp"
#include "tunnel/replay_window.hpp"

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace {

using namespace mesh;
using namespace mesh::bench;
using tunnel::EspCipher;
using tunnel::PacketBuffer;

struct Workload {
    const char* label;
    std::size_t bytes;
    std::size_t packets;  // per timed round, each in its own buffer
};

constexpr std::array<Workload, 4> workloads{{
    {"64 B", 64, 16},
    {"512 B", 512, 16},
    {"1400 B", 1400, 16},
    {"64 KiB burst", 1400, 46},
}};

constexpr std::size_t max_packets = 46;
constexpr std::uint8_t next_header_gre = 47;

using Row = std::array<double, workloads.size()>;  // ns per packet

void print_header(const char* title, bool with_rate = true)
{
    std::printf("\n%-38s", title);
    for (const Workload& w : workloads)
        std::printf(" %19s", w.label);
    std::printf("\n%-38s", "");
    for (std::size_t i = 0; i < workloads.size(); ++i)
        std::printf(" %10s %8s", "ns/pkt", with_rate ? "Gbit/s" : "");
    std::printf("\n");
}

void print_row(const std::string& name, const Row& ns)
{
    std::printf("%-38s", name.c_str());
    for (std::size_t i = 0; i < workloads.size(); ++i)
        std::printf(" %10.0f %8.2f", ns[i], static_cast<double>(workloads[i].bytes) * 8 / ns[i]);
    std::printf("\n");
    std::fflush(stdout);
}

void print_difference(const std::string& name, const Row& slow, const Row& fast)
{
    std::printf("%-38s", name.c_str());
    for (std::size_t i = 0; i < workloads.size(); ++i)
        std::printf(" %10.0f %8s", slow[i] - fast[i], "");
    std::printf("\n");
}

[[noreturn]] void fail(const char* what)
{
    std::fprintf(stderr, "esp_crypto_bench: %s\n", what);
    std::exit(1);
}

std::vector<std::uint8_t> key_bytes(std::size_t n)
{
    std::vector<std::uint8_t> key(n);
    for (std::size_t i = 0; i < n; ++i)
        key[i] = static_cast<std::uint8_t>(0x40 + i);
    return key;
}

// ---------------------------------------------------------------------------
// 1. The AEADs alone

struct RawResult {
    Row seal;
    Row open;
};

RawResult measure_raw(RawAead& aead)
{
    std::vector<std::vector<std::uint8_t>> packets(max_packets, std::vector<std::uint8_t>(1400 + tag_bytes));
    const std::array<std::uint8_t, 8> aad{0, 0, 0x20, 0x01, 0, 0, 0, 1};
    std::array<std::uint8_t, nonce_bytes> nonce{1, 2, 3, 4};
    RawResult result{};
    for (std::size_t w = 0; w < workloads.size(); ++w) {
        const Workload& load = workloads[w];
        const auto packet = [&](std::size_t i) { return std::span(packets[i]).first(load.bytes + tag_bytes); };
        result.seal[w] = ns_per_item(load.packets, [] {}, [&] {
            for (std::size_t i = 0; i < load.packets; ++i)
                aead.seal(packet(i), nonce, aad);
        });
        const auto seal_all = [&] {
            ++nonce[11];
            for (std::size_t i = 0; i < load.packets; ++i)
                aead.seal(packet(i), nonce, aad);
        };
        result.open[w] = ns_per_item(load.packets, seal_all, [&] {
            for (std::size_t i = 0; i < load.packets; ++i)
                if (!aead.open(packet(i), nonce, aad)) [[unlikely]]
                    fail("a raw AEAD refused its own packet");
        });
    }
    return result;
}

// ---------------------------------------------------------------------------
// 2. ESP through OutboundSa / InboundSa

tunnel::SaParams sa_params(EspCipher cipher)
{
    tunnel::SaParams params;
    params.spi = 0x00002001;
    params.cipher = cipher;
    const auto key = key_bytes(tunnel::info(cipher).key_bytes);
    params.cipher_key.assign(key.begin(), key.end());
    return params;
}

RawResult measure_esp(EspCipher cipher)
{
    const tunnel::SaParams params = sa_params(cipher);
    tunnel::OutboundSa outbound(params);
    tunnel::OutboundSa feeder(params);  // seals what the inbound SA opens, untimed
    tunnel::InboundSa inbound(params);
    std::vector<std::unique_ptr<PacketBuffer>> buffers;
    for (std::size_t i = 0; i < max_packets; ++i)
        buffers.push_back(std::make_unique<PacketBuffer>());

    RawResult result{};
    for (std::size_t w = 0; w < workloads.size(); ++w) {
        const Workload& load = workloads[w];
        const auto fill = [&] {
            for (std::size_t i = 0; i < load.packets; ++i) {
                buffers[i]->reset();
                buffers[i]->set_size(load.bytes);
            }
        };
        result.seal[w] = ns_per_item(load.packets, fill, [&] {
            for (std::size_t i = 0; i < load.packets; ++i)
                if (!outbound.seal(*buffers[i], next_header_gre)) [[unlikely]]
                    fail("OutboundSa::seal failed");
        });
        const auto seal_all = [&] {
            fill();
            for (std::size_t i = 0; i < load.packets; ++i)
                if (!feeder.seal(*buffers[i], next_header_gre)) [[unlikely]]
                    fail("OutboundSa::seal failed");
        };
        result.open[w] = ns_per_item(load.packets, seal_all, [&] {
            for (std::size_t i = 0; i < load.packets; ++i)
                if (!inbound.open(*buffers[i])) [[unlikely]]
                    fail("InboundSa::open refused a packet its peer sealed");
        });
    }
    return result;
}

// ---------------------------------------------------------------------------
// 3. Per-packet steps outside crypto

constexpr std::size_t step_ops = 4096;

double time_step(const std::function<void()>& prepare, const std::function<void()>& run)
{
    return ns_per_item(step_ops, prepare, run);
}

// A 1400-byte IPv4 TCP segment with ACK only: what MSS clamping looks at and leaves alone.
std::array<std::uint8_t, 1400> tcp_segment()
{
    std::array<std::uint8_t, 1400> p{};
    p[0] = 0x45;
    p[2] = 1400 >> 8;
    p[3] = 1400 & 0xff;
    p[8] = 64;
    p[9] = 6;
    p[20 + 12] = 0x50;
    p[20 + 13] = 0x10;
    return p;
}

void measure_steps()
{
    std::printf("\n%-38s %10s\n", "data-plane step outside crypto", "ns/pkt");
    PacketBuffer buffer;
    buffer.reset();
    buffer.set_size(1400);
    gre::Header header;
    const std::size_t gre_bytes = gre::header_length(header);

    const double encap = time_step([] {}, [&] {
        for (std::size_t i = 0; i < step_ops; ++i) {
            buffer.push_front(gre_bytes);
            gre::encap(buffer.data(), header);
            keep(buffer.data().data());
            buffer.pull_front(gre_bytes);
        }
    });
    std::printf("%-38s %10.1f\n", "GRE encap (4-byte header)", encap);

    buffer.push_front(gre_bytes);
    gre::encap(buffer.data(), header);
    const double decap = time_step([] {}, [&] {
        for (std::size_t i = 0; i < step_ops; ++i) {
            const auto result = gre::decap(buffer.data());
            keep(&result);
        }
    });
    std::printf("%-38s %10.1f\n", "GRE decap", decap);

    auto segment = tcp_segment();
    const double clamp = time_step([] {}, [&] {
        for (std::size_t i = 0; i < step_ops; ++i) {
            const bool changed = tunnel::clamp_tcp_mss(segment, 1400);
            keep(&changed);
        }
    });
    std::printf("%-38s %10.1f\n", "MSS clamp check (not a SYN)", clamp);

    tunnel::ReplayWindow window(true);
    std::uint64_t seq = 0;
    const double replay = time_step([] {}, [&] {
        for (std::size_t i = 0; i < step_ops; ++i) {
            const auto full = window.check(static_cast<std::uint32_t>(++seq));
            if (!full) [[unlikely]]
                fail("the replay window refused an in-order packet");
            window.accept(*full);
        }
    });
    std::printf("%-38s %10.1f\n", "replay check + accept (in order)", replay);
}

} // namespace

int main()
{
    std::printf("esp_crypto_bench: one core; median round of %lld ms of rounds (clock reads: %lld ns, taken off)\n",
                static_cast<long long>(min_total.count()), static_cast<long long>(clock_cost_ns()));

    struct RawCase {
        const char* name;
        EspCipher cipher;
        std::unique_ptr<RawAead> aead;
    };
    const auto key16 = key_bytes(16);
    const auto key32 = key_bytes(32);
    std::vector<RawCase> raw;
    raw.push_back({"Botan AES-128-GCM bulk+finish", EspCipher::aes128_gcm,
                   make_botan_aead("AES-128/GCM", BotanPath::bulk_and_finish, key16)});
    raw.push_back({"Botan AES-128-GCM finish only", EspCipher::aes128_gcm,
                   make_botan_aead("AES-128/GCM", BotanPath::finish_only, key16)});
    raw.push_back({"OpenSSL AES-128-GCM", EspCipher::aes128_gcm, make_evp_aead(EspCipher::aes128_gcm, key16)});
    raw.push_back({"Botan ChaCha20-Poly1305 bulk+finish", EspCipher::chacha20_poly1305,
                   make_botan_aead("ChaCha20Poly1305", BotanPath::bulk_and_finish, key32)});
    raw.push_back({"OpenSSL ChaCha20-Poly1305", EspCipher::chacha20_poly1305,
                   make_evp_aead(EspCipher::chacha20_poly1305, key32)});

    print_header("raw AEAD (8-byte AAD, 16-byte tag)");
    std::vector<RawResult> raw_results;
    for (RawCase& c : raw) {
        raw_results.push_back(measure_raw(*c.aead));
        print_row(std::string(c.name) + " seal", raw_results.back().seal);
        print_row(std::string(c.name) + " open", raw_results.back().open);
    }

    struct EspCase {
        const char* name;
        EspCipher cipher;
        std::size_t raw_index;  // the raw AEAD the ESP path runs on
    };
    // EspCrypto's engine per transform: keep raw_index in step with tunnel/esp_crypto.cpp.
    const std::array<EspCase, 2> esp{{
        {"ESP aes-128-gcm", EspCipher::aes128_gcm, 2},
        {"ESP chacha20-poly1305", EspCipher::chacha20_poly1305, 3},
    }};
    print_header("ESP OutboundSa::seal / InboundSa::open");
    std::vector<RawResult> esp_results;
    for (const EspCase& c : esp) {
        esp_results.push_back(measure_esp(c.cipher));
        print_row(std::string(c.name) + " seal", esp_results.back().seal);
        print_row(std::string(c.name) + " open", esp_results.back().open);
    }

    print_header("ESP minus its raw AEAD", false);
    for (std::size_t i = 0; i < esp.size(); ++i) {
        const RawResult& base = raw_results[esp[i].raw_index];
        print_difference(std::string(esp[i].name) + " seal", esp_results[i].seal, base.seal);
        print_difference(std::string(esp[i].name) + " open", esp_results[i].open, base.open);
    }
    for (const EspCase& c : esp)
        std::printf("(%s runs on: %s)\n", c.name, raw[c.raw_index].name);

    measure_steps();
    return 0;
}
