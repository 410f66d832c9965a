#include "tools/bench/raw_aead.hpp"

#include "tunnel/evp_aead.hpp"

#include <botan/aead.h>

#include <algorithm>

namespace mesh::bench {

namespace {

class BotanAead final : public RawAead {
public:
    BotanAead(const std::string& name, BotanPath path, std::span<const std::uint8_t> key)
        : path_(path)
        , seal_(Botan::AEAD_Mode::create_or_throw(name, Botan::ENCRYPTION))
        , open_(Botan::AEAD_Mode::create_or_throw(name, Botan::DECRYPTION))
    {
        seal_->set_key(key.data(), key.size());
        open_->set_key(key.data(), key.size());
        work_.reserve(64 * 1024 + tag_bytes);
    }

    void seal(std::span<std::uint8_t> packet, std::span<const std::uint8_t, nonce_bytes> nonce,
              std::span<const std::uint8_t> aad) override
    {
        run(*seal_, packet.first(packet.size() - tag_bytes), packet.size() - tag_bytes, nonce, aad);
    }

    bool open(std::span<std::uint8_t> packet, std::span<const std::uint8_t, nonce_bytes> nonce,
              std::span<const std::uint8_t> aad) override
    {
        try {
            run(*open_, packet, packet.size() - tag_bytes, nonce, aad);
            return true;
        } catch (const Botan::Invalid_Authentication_Tag&) {
            open_->reset();
            return false;
        }
    }

private:
    // in: what finish() must see in total (seal: text; open: text || tag);
    // the result (seal: text || tag; open: text) goes back in place.
    void run(Botan::AEAD_Mode& mode, std::span<std::uint8_t> in, std::size_t text_bytes,
             std::span<const std::uint8_t, nonce_bytes> nonce, std::span<const std::uint8_t> aad)
    {
        mode.set_associated_data(aad.data(), aad.size());
        mode.start(nonce.data(), nonce.size());
        std::size_t bulk = 0;
        if (path_ == BotanPath::bulk_and_finish) {
            bulk = text_bytes - text_bytes % mode.update_granularity();
            if (bulk != 0)
                mode.process(in.data(), bulk);
        }
        work_.assign(in.begin() + static_cast<std::ptrdiff_t>(bulk), in.end());
        mode.finish(work_);
        std::copy(work_.begin(), work_.end(), in.data() + bulk);
    }

    BotanPath path_;
    std::unique_ptr<Botan::AEAD_Mode> seal_;
    std::unique_ptr<Botan::AEAD_Mode> open_;
    Botan::secure_vector<std::uint8_t> work_;
};

class EvpRawAead final : public RawAead {
public:
    EvpRawAead(tunnel::EspCipher cipher, std::span<const std::uint8_t> key)
        : seal_(cipher, key, tunnel::EspDirection::seal)
        , open_(cipher, key, tunnel::EspDirection::open)
    {
    }

    void seal(std::span<std::uint8_t> packet, std::span<const std::uint8_t, nonce_bytes> nonce,
              std::span<const std::uint8_t> aad) override
    {
        const std::size_t text_bytes = packet.size() - tag_bytes;
        (void)seal_.seal(nonce, aad, packet.first(text_bytes), packet.subspan(text_bytes).first<tag_bytes>());
    }

    bool open(std::span<std::uint8_t> packet, std::span<const std::uint8_t, nonce_bytes> nonce,
              std::span<const std::uint8_t> aad) override
    {
        const std::size_t text_bytes = packet.size() - tag_bytes;
        return open_.open(nonce, aad, packet.first(text_bytes), packet.subspan(text_bytes).first<tag_bytes>());
    }

private:
    tunnel::EvpAead seal_;
    tunnel::EvpAead open_;
};

} // namespace

std::unique_ptr<RawAead> make_botan_aead(const std::string& botan_name, BotanPath path,
                                         std::span<const std::uint8_t> key)
{
    return std::make_unique<BotanAead>(botan_name, path, key);
}

std::unique_ptr<RawAead> make_evp_aead(tunnel::EspCipher cipher, std::span<const std::uint8_t> key)
{
    return std::make_unique<EvpRawAead>(cipher, key);
}

} // namespace mesh::bench
