#pragma once
// A test speaking on A's IKE SA of a Pair with the keys A exports: requests
// A's engine never sends, to see what B answers.

#include "exchange_pair.hpp"
#include "ike/child_negotiation.hpp"
#include "ike/proposal.hpp"
#include "ike/sk_cipher.hpp"

#include <doctest/doctest.h>

#include <optional>
#include <vector>

namespace exchange_pair {

// Sends requests on A's IKE SA with the keys A exports, as A's engine never
// would, and reads B's answers.
class SpeakingForA {
public:
    explicit SpeakingForA(Pair& p) : p_(p)
    {
        const auto keys = p.a->keys();
        REQUIRE(keys.size() == 1);
        spi_i_ = keys.front().spi_i;
        spi_r_ = keys.front().spi_r;
        auto sk = SkCipher::create(keys.front().suite, *keys.front().keys, SkSide::original_initiator, p.rng);
        REQUIRE(sk);
        sk_.emplace(std::move(*sk));
    }
    // A CREATE_CHILD_SA offering A's CHILD SA, rekeying `rekey_spi` when
    // there is one: the one Notify B answers with.
    NotifyPayload offer_child(std::optional<std::uint32_t> rekey_spi)
    {
        std::vector<Payload> inner;
        if (rekey_spi)
            inner.push_back(NotifyPayload{ProtocolId::esp, NotifyType::rekey_sa, spi_bytes(*rekey_spi), {}});
        append_child_offer(inner, p_.a->peers().front().children.front(), 0x7777, true, p_.a_ike.address,
                           p_.b_ike.address);
        inner.push_back(NoncePayload{std::vector<std::uint8_t>(32, 0x5a)});
        const auto answer = ask(std::move(inner));
        REQUIRE(answer.size() == 1);
        const auto* n = std::get_if<NotifyPayload>(&answer.front());
        REQUIRE(n != nullptr);
        return *n;
    }

    // One request (CREATE_CHILD_SA unless told otherwise) with these payloads (A sent nothing since IKE_AUTH); B's answer, decrypted.
    std::vector<Payload> ask(std::vector<Payload> inner, ExchangeType exchange = ExchangeType::create_child_sa)
    {
        Message request;
        request.header.spi_i = spi_i_;
        request.header.spi_r = spi_r_;
        request.header.exchange_type = exchange;
        request.header.initiator = true;
        request.header.message_id = next_message_id_++;
        const auto plaintext = serialize_payload_chain(inner);
        request.payloads.push_back(SkPayload{payload_type(inner.front()), {}});
        const auto aad = associated_data(request, sk_->sealed_size(plaintext.size()));
        auto body = sk_->seal(aad, plaintext);
        REQUIRE(body);
        std::vector<std::uint8_t> datagram = aad;
        datagram.insert(datagram.end(), body->begin(), body->end());
        p_.wire.clear();
        p_.deliver({p_.a_natt, p_.b_natt, datagram});
        REQUIRE(p_.wire.size() == 1);
        const auto answer = parse(p_.wire.front().bytes);
        REQUIRE(answer);
        CHECK(answer->header.response);
        const auto* sk = answer->find<SkPayload>();
        REQUIRE(sk != nullptr);
        const auto opened = sk_->open(associated_data(p_.wire.front().bytes, sk->body.size()), sk->body);
        REQUIRE(opened);
        auto payloads = parse_payload_chain(sk->first_payload, *opened);
        REQUIRE(payloads);
        p_.wire.clear();
        return std::move(*payloads);
    }

private:
    Pair& p_;
    std::uint64_t spi_i_ = 0, spi_r_ = 0;
    std::optional<SkCipher> sk_;
    std::uint32_t next_message_id_ = 2;   // after IKE_SA_INIT (0) and IKE_AUTH (1)
};

} // namespace exchange_pair
