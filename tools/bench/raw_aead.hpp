#pragma once
// The AEADs alone, without ESP: what the ESP figures are compared with. Each
// object holds a sealing and an opening context under one key; packets are
// text || 16-byte tag, worked on in place with an 8-byte AAD, as ESP does.
//
//   Botan, bulk + finish:  process() on the update_granularity()-aligned bulk
//                          in place, only the rest and the tag through finish()
//   Botan, finish only:    the whole text copied into a reserved secure_vector,
//                          finish() on it, copied back (the naive way)
//   OpenSSL EVP:           tunnel/evp_aead.hpp, the data plane's own wrapper

#include "tunnel/esp_algorithm.hpp"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>

namespace mesh::bench {

inline constexpr std::size_t tag_bytes = 16;
inline constexpr std::size_t nonce_bytes = 12;

class RawAead {
public:
    virtual ~RawAead() = default;
    virtual void seal(std::span<std::uint8_t> packet, std::span<const std::uint8_t, nonce_bytes> nonce,
                      std::span<const std::uint8_t> aad) = 0;
    // False on a bad tag.
    virtual bool open(std::span<std::uint8_t> packet, std::span<const std::uint8_t, nonce_bytes> nonce,
                      std::span<const std::uint8_t> aad) = 0;
};

enum class BotanPath : std::uint8_t { bulk_and_finish, finish_only };

// botan_name: "AES-128/GCM", "ChaCha20Poly1305"; key without salt.
std::unique_ptr<RawAead> make_botan_aead(const std::string& botan_name, BotanPath path,
                                         std::span<const std::uint8_t> key);
std::unique_ptr<RawAead> make_evp_aead(mesh::tunnel::EspCipher cipher, std::span<const std::uint8_t> key);

} // namespace mesh::bench
