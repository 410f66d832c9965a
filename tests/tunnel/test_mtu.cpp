// Tunnel MTU arithmetic (tunnel/mtu.hpp): known values for each cipher, IPv4
// and IPv6 underlay, mode gre and ip, and the fit property over many path MTUs.

#include "tunnel/mtu.hpp"

#include <doctest/doctest.h>

#include <array>
#include <cstdint>

namespace {

using mesh::tunnel::EspCipher;
using mesh::tunnel::EspIntegrity;
using mesh::tunnel::outer_packet_size;
using mesh::tunnel::tunnel_mtu;
using mesh::tunnel::TunnelOverhead;

constexpr std::size_t v4 = mesh::net::ipv4_header_bytes;
constexpr std::size_t v6 = mesh::net::ipv6_header_bytes;
constexpr std::size_t gre = 4;

TunnelOverhead overhead(std::size_t ip, std::size_t gre_header, EspCipher cipher,
                        EspIntegrity integrity = EspIntegrity::none, bool udp = true)
{
    return TunnelOverhead{.underlay_ip_header = ip, .udp_encapsulation = udp, .gre_header = gre_header,
                          .cipher = cipher, .integrity = integrity};
}

constexpr std::array ciphers{EspCipher::aes128_gcm, EspCipher::aes256_gcm, EspCipher::chacha20_poly1305,
                             EspCipher::aes128_cbc, EspCipher::aes256_cbc};
constexpr std::array integrities{EspIntegrity::hmac_sha256_128, EspIntegrity::hmac_sha384_192,
                                 EspIntegrity::hmac_sha512_256};

bool is_cbc(EspCipher c)
{
    return c == EspCipher::aes128_cbc || c == EspCipher::aes256_cbc;
}

} // namespace

TEST_CASE("the default overhead is GRE without options over AES-128-GCM in UDP over IPv4")
{
    const TunnelOverhead o;
    CHECK(o.underlay_ip_header == 20);
    CHECK(o.udp_encapsulation);
    CHECK(o.gre_header == 4);
    CHECK(o.cipher == EspCipher::aes128_gcm);
    // 1500 - 20 IP - 8 UDP - 8 ESP - 8 IV - 16 ICV = 1440 = 4 GRE + 1434 + 2 trailer, no padding.
    CHECK(tunnel_mtu(mesh::tunnel::default_path_mtu, o) == 1434);
    CHECK(outer_packet_size(1434, o) == 1500);
}

TEST_CASE("AEAD ciphers share one MTU: 8-byte IV, 16-byte ICV, 4-byte alignment")
{
    for (const auto cipher : {EspCipher::aes128_gcm, EspCipher::aes256_gcm, EspCipher::chacha20_poly1305}) {
        CAPTURE(static_cast<int>(cipher));
        CHECK(tunnel_mtu(1500, overhead(v4, gre, cipher)) == 1434);
        CHECK(tunnel_mtu(1500, overhead(v6, gre, cipher)) == 1414);
        CHECK(tunnel_mtu(1500, overhead(v4, 0, cipher)) == 1438);
        CHECK(tunnel_mtu(1500, overhead(v6, 0, cipher)) == 1418);
        // Path MTU 1499: the 4-byte alignment costs 4 bytes, not 1.
        CHECK(tunnel_mtu(1499, overhead(v4, gre, cipher)) == 1430);
    }
}

TEST_CASE("AEAD ciphers ignore an integrity algorithm")
{
    CHECK(tunnel_mtu(1500, overhead(v4, gre, EspCipher::aes256_gcm, EspIntegrity::hmac_sha512_256)) == 1434);
}

TEST_CASE("AES-CBC: 16-byte IV, 16-byte blocks, the HMAC's truncated ICV")
{
    for (const auto cipher : {EspCipher::aes128_cbc, EspCipher::aes256_cbc}) {
        CAPTURE(static_cast<int>(cipher));
        // 1500 - 52 (20 IP, 8 UDP, 8 ESP, 16 IV) - 16 ICV = 1432 -> 1424 in blocks -> 1424 - 2 - 4.
        CHECK(tunnel_mtu(1500, overhead(v4, gre, cipher, EspIntegrity::hmac_sha256_128)) == 1418);
        // 1432 - 8 more ICV = 1424, whole blocks: the outer packet fills the path exactly.
        CHECK(tunnel_mtu(1500, overhead(v4, gre, cipher, EspIntegrity::hmac_sha384_192)) == 1418);
        CHECK(outer_packet_size(1418, overhead(v4, gre, cipher, EspIntegrity::hmac_sha384_192)) == 1500);
        // 1500 - 52 - 32 = 1416 -> 1408 -> 1402, 8 bytes short of the path; IPv6: 1396 -> 1392 -> 1386.
        CHECK(tunnel_mtu(1500, overhead(v4, gre, cipher, EspIntegrity::hmac_sha512_256)) == 1402);
        CHECK(outer_packet_size(1402, overhead(v4, gre, cipher, EspIntegrity::hmac_sha512_256)) == 1492);
        CHECK(tunnel_mtu(1500, overhead(v6, gre, cipher, EspIntegrity::hmac_sha384_192)) == 1386);
        CHECK(tunnel_mtu(1500, overhead(v4, 0, cipher, EspIntegrity::hmac_sha256_128)) == 1422);
        CHECK(tunnel_mtu(1500, overhead(v6, gre, cipher, EspIntegrity::hmac_sha256_128)) == 1402);
    }
}

TEST_CASE("plain ESP without UDP gains the 8 bytes of the UDP header")
{
    CHECK(tunnel_mtu(1500, overhead(v4, gre, EspCipher::aes128_gcm, EspIntegrity::none, false)) == 1442);
}

TEST_CASE("a GRE header with key and sequence costs its 12 bytes")
{
    CHECK(tunnel_mtu(1500, overhead(v4, 12, EspCipher::aes128_gcm)) == 1426);
}

TEST_CASE("the inner MTU fills the path MTU without ever exceeding it")
{
    for (const std::size_t ip : {v4, v6}) {
        for (const std::size_t gre_header : {std::size_t{0}, gre, std::size_t{16}}) {
            for (const auto cipher : ciphers) {
                for (const auto integrity : integrities) {
                    const auto o = overhead(ip, gre_header, cipher, integrity);
                    const std::size_t slack_limit = is_cbc(cipher) ? 16 : 4;
                    for (std::uint32_t path = 576; path <= 9000; ++path) {
                        const std::uint32_t mtu = tunnel_mtu(path, o);
                        REQUIRE(mtu > 0);
                        const std::size_t outer = outer_packet_size(mtu, o);
                        REQUIRE(outer <= path);
                        REQUIRE(path - outer < slack_limit);
                        REQUIRE(outer_packet_size(mtu + 1, o) > path);
                    }
                }
            }
        }
    }
}

TEST_CASE("a path MTU below the overhead leaves no room")
{
    const auto o = overhead(v6, gre, EspCipher::aes256_cbc, EspIntegrity::hmac_sha512_256);
    CHECK(tunnel_mtu(0, o) == 0);
    CHECK(tunnel_mtu(40, o) == 0);
    // 40 + 8 + 8 + 16 + 32 = 104 fixed; one 16-byte block holds GRE and trailer with 10 bytes to spare.
    CHECK(tunnel_mtu(104, o) == 0);
    CHECK(tunnel_mtu(119, o) == 0);
    CHECK(tunnel_mtu(120, o) == 10);
    CHECK(outer_packet_size(10, o) == 120);
}
