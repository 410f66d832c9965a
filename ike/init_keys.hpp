#pragma once
// The responder's Diffie-Hellman of IKE_SA_INIT (RFC 7296 sections 1.2 and
// 2.14) as a job for a CryptoExecutor: from copies of the chosen group and
// PRF, KEi and both nonces, its own KEr and SKEYSEED. The SK_* keys that
// follow cost a few HMACs and are made on the control thread.

#include "ike/crypto_suite.hpp"

#include <botan/rng.h>
#include <botan/secmem.h>

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace mesh::ike {

struct InitKeys {
    std::vector<std::uint8_t> public_value;        // KEr
    Botan::secure_vector<std::uint8_t> skeyseed;
};

// Nothing when KEi is refused (a wrong length, not a point of the group) or
// the group or PRF cannot be made.
[[nodiscard]] std::optional<InitKeys> responder_init_keys(DhGroup group, PrfId prf,
                                                          std::span<const std::uint8_t> peer_ke,
                                                          std::span<const std::uint8_t> nonce_i,
                                                          std::span<const std::uint8_t> nonce_r,
                                                          Botan::RandomNumberGenerator& rng);

} // namespace mesh::ike
