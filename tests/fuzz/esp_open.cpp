// libFuzzer target: arbitrary bytes into InboundSa::open.
//
//   input = selector || ESP packet (SPI .. ICV)
//   selector: bits 0-3 pick the transform (mod 9, the table below), bit 7 ESN
//
// Keys are fixed (cipher key byte i = i + 1, integrity key byte i = 0x80 + i),
// so the seed corpus in corpus/fuzz_esp_open/ holds packets that really
// authenticate and reach the padding checks and the window. Each input gets a
// fresh SA, so a crash replays from its file alone. Every packet is opened
// twice: the second time must be a replay drop if the first one was accepted.

#include "tunnel/esp_sa.hpp"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace {

using namespace mesh::tunnel;

struct Transform {
    EspCipher cipher;
    EspIntegrity integrity;
};

constexpr Transform transforms[] = {
    {EspCipher::aes128_gcm, EspIntegrity::none},
    {EspCipher::aes256_gcm, EspIntegrity::none},
    {EspCipher::chacha20_poly1305, EspIntegrity::none},
    {EspCipher::aes128_cbc, EspIntegrity::hmac_sha256_128},
    {EspCipher::aes128_cbc, EspIntegrity::hmac_sha384_192},
    {EspCipher::aes128_cbc, EspIntegrity::hmac_sha512_256},
    {EspCipher::aes256_cbc, EspIntegrity::hmac_sha256_128},
    {EspCipher::aes256_cbc, EspIntegrity::hmac_sha384_192},
    {EspCipher::aes256_cbc, EspIntegrity::hmac_sha512_256},
};

SaParams params_for(std::uint8_t selector)
{
    const Transform t = transforms[(selector & 0x0f) % std::size(transforms)];
    SaParams params;
    params.spi = 0x00001001;
    params.cipher = t.cipher;
    params.integrity = t.integrity;
    params.esn = (selector & 0x80) != 0;
    for (std::size_t i = 0; i < info(t.cipher).key_bytes; ++i)
        params.cipher_key.push_back(static_cast<std::uint8_t>(i + 1));
    for (std::size_t i = 0; i < info(t.integrity).key_bytes; ++i)
        params.integrity_key.push_back(static_cast<std::uint8_t>(0x80 + i));
    return params;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    static const auto packet = std::make_unique<PacketBuffer>();
    if (size < 1 || size - 1 > PacketBuffer::capacity - PacketBuffer::default_headroom)
        return 0;
    InboundSa sa(params_for(data[0]));
    const std::size_t esp_bytes = size - 1;

    for (int attempt = 0; attempt < 2; ++attempt) {
        packet->reset();
        if (esp_bytes != 0)
            std::memcpy(packet->push_back(esp_bytes), data + 1, esp_bytes);
        const auto opened = sa.open(*packet);
        const SaCounters& c = sa.counters();
        const std::uint64_t counted =
            c.packets.get() + c.auth_drops.get() + c.replay_drops.get() + c.malformed_drops.get();
        if (counted != static_cast<std::uint64_t>(attempt) + 1)
            __builtin_trap();  // every packet is counted exactly once
        if (opened) {
            if (attempt == 1 || packet->size() >= esp_bytes || sa.highest_sequence() == 0)
                __builtin_trap();  // a replay got through, or the payload grew
        }
    }
    return 0;
}
