#include "ike/init_keys.hpp"

#include "ike/dh_group.hpp"
#include "ike/key_material.hpp"
#include "ike/prf.hpp"

namespace mesh::ike {

std::optional<InitKeys> responder_init_keys(DhGroup group, PrfId prf_id, std::span<const std::uint8_t> peer_ke,
                                            std::span<const std::uint8_t> nonce_i,
                                            std::span<const std::uint8_t> nonce_r,
                                            Botan::RandomNumberGenerator& rng)
{
    auto dh = DhKeyExchange::generate(group, rng);
    auto prf = Prf::create(prf_id);
    if (!dh || !prf)
        return std::nullopt;
    auto shared = dh->shared_secret(peer_ke);
    if (!shared)
        return std::nullopt;
    return InitKeys{dh->public_value(), skeyseed(*prf, nonce_i, nonce_r, *shared)};
}

} // namespace mesh::ike
