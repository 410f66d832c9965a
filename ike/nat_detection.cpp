#include "ike/nat_detection.hpp"

#include <botan/hash.h>

namespace mesh::ike {

std::vector<std::uint8_t> nat_detection_hash(std::uint64_t spi_i, std::uint64_t spi_r, const net::Endpoint& endpoint)
{
    const auto sha1 = Botan::HashFunction::create_or_throw("SHA-1");
    std::uint8_t spis[16];
    for (int i = 0; i < 8; ++i) {
        spis[i] = static_cast<std::uint8_t>(spi_i >> (56 - 8 * i));
        spis[8 + i] = static_cast<std::uint8_t>(spi_r >> (56 - 8 * i));
    }
    sha1->update(spis, sizeof spis);
    sha1->update(endpoint.address.bytes(), endpoint.address.size());
    const std::uint8_t port[2] = {static_cast<std::uint8_t>(endpoint.port >> 8), static_cast<std::uint8_t>(endpoint.port)};
    sha1->update(port, sizeof port);
    const auto digest = sha1->final();
    return {digest.begin(), digest.end()};
}

std::vector<std::uint8_t> forced_encapsulation_hash(std::uint64_t spi_i, std::uint64_t spi_r,
                                                    const net::Endpoint& endpoint)
{
    return nat_detection_hash(spi_i, spi_r, {endpoint.address, static_cast<std::uint16_t>(~endpoint.port)});
}

} // namespace mesh::ike
