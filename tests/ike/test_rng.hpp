#pragma once
// Every random choice of the IKE unit tests comes from one seed: the value of
// MESH_TEST_SEED when set, else a fresh one. main.cpp prints it at the start
// and again when a test failed, so a failure is replayed with
// MESH_TEST_SEED=<seed> build/tests/ike/test_ike.

#include <botan/rng.h>
#include <botan/stream_cipher.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <deque>
#include <memory>
#include <random>
#include <string>
#include <string_view>

namespace test_rng {

inline std::uint64_t seed()
{
    static const std::uint64_t value = [] {
        if (const char* text = std::getenv("MESH_TEST_SEED"); text != nullptr && *text != '\0')
            return static_cast<std::uint64_t>(std::strtoull(text, nullptr, 0));
        std::random_device device;
        return std::uint64_t{device()} << 32 | device();
    }();
    return value;
}

// ChaCha20's keystream under a key made of the seed and `stream`, so each
// user (an engine of a pair, a test's key generation) draws its own sequence
// and adding a draw in one does not shift the others.
class TestRng final : public Botan::RandomNumberGenerator {
public:
    explicit TestRng(std::string_view stream) : cipher_(Botan::StreamCipher::create_or_throw("ChaCha(20)"))
    {
        std::uint8_t key[32] = {};
        const std::uint64_t s = seed();
        for (int i = 0; i < 8; ++i)
            key[i] = static_cast<std::uint8_t>(s >> (8 * i));
        std::copy_n(stream.begin(), std::min<std::size_t>(stream.size(), 24), key + 8);
        cipher_->set_key(key, sizeof key);
        const std::uint8_t iv[8] = {};
        cipher_->set_iv(iv, sizeof iv);
    }

    // The first byte of the next 32-byte draws (an engine's nonces, and its
    // 256-bit private keys alike), one per draw, the last one kept for the
    // rest: a test decides who wins the nonce rule of RFC 7296 section
    // 2.8.1, as strongSwan's exchange tests fix the first nonce byte.
    std::deque<std::uint8_t> first_bytes;
    int draws_of_32 = 0;   // how many 32-byte draws were made: where a nonce falls among them


    void randomize(std::uint8_t output[], std::size_t length) override
    {
        std::fill_n(output, length, std::uint8_t{0});
        cipher_->cipher1(output, length);
        if (length == 32)
            ++draws_of_32;
        if (length == 32 && !first_bytes.empty()) {
            output[0] = first_bytes.front();
            if (first_bytes.size() > 1)
                first_bytes.pop_front();
        }
    }
    bool accepts_input() const override { return false; }
    void add_entropy(const std::uint8_t[], std::size_t) override {}
    std::string name() const override { return "test-rng"; }
    void clear() override {}
    bool is_seeded() const override { return true; }

private:
    std::unique_ptr<Botan::StreamCipher> cipher_;
};

} // namespace test_rng
