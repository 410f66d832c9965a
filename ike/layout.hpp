#pragma once
// The two interpreters of a wire layout description.
//
// Every payload and substructure describes its bytes once, in field order:
//
//     template <class Self, class Io> static void layout(Self& p, Io& io);
//
// A Decoder runs it with Self = T and assigns each field from the bytes; an
// Encoder runs it with Self = const T and writes each field. Parse and build
// therefore cannot disagree about the layout. A field whose value follows
// from the data (a size, a count) is a local of the description: the encoder
// sets it from the data with measure(), the decoder reads it from the wire
// and then uses it to read what it measures.
//
// Both interpreters stop at the first error and keep it: a description is
// straight-line code, and the caller checks ok() once at the end. Semantic
// rules (nonce sizes, proposal numbering, ...) are not layout and live in the
// payloads' is_valid() functions instead.

#include "ike/parse_error.hpp"
#include "ike/wire.hpp"
#include "net/ip_address.hpp"

#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <span>
#include <type_traits>
#include <vector>

namespace mesh::ike::layout {

// One bit of a packed word (B is bool or const bool).
template <class B>
struct Flag {
    B& value;
    unsigned position;
};
// `width` bits of a packed word starting at bit `shift` (bit 0 = least significant).
template <class T>
struct Field {
    T& value;
    unsigned shift;
    unsigned width;
};
template <class B>
[[nodiscard]] Flag<B> flag(B& value, unsigned position) noexcept { return {value, position}; }
template <class T>
[[nodiscard]] Field<T> field(T& value, unsigned shift, unsigned width) noexcept { return {value, shift, width}; }

[[nodiscard]] constexpr std::size_t address_length(net::IpAddress::Family family) noexcept
{
    return family == net::IpAddress::Family::v4 ? 4 : 16;
}

class Decoder {
public:
    static constexpr bool decoding = true;

    explicit Decoder(std::span<const std::uint8_t> bytes) noexcept : in_(bytes) {}

    [[nodiscard]] bool ok() const noexcept { return !error_; }
    // The first error; meaningful only once ok() is false.
    [[nodiscard]] ParseErrc error() const noexcept { return error_.value_or(ParseErrc::invalid_syntax); }
    [[nodiscard]] std::size_t remaining() const noexcept { return in_.remaining(); }
    // Keeps the first error and stops reading.
    void fail(ParseErrc e) noexcept
    {
        if (!error_)
            error_ = e;
        in_.skip(in_.remaining());
    }
    // A description must account for every byte it was given.
    void finish() noexcept
    {
        if (ok() && remaining() != 0)
            fail(ParseErrc::bad_length);
    }

    template <class T> void u8(T& v) noexcept { number<std::uint8_t>(v); }
    template <class T> void u16(T& v) noexcept { number<std::uint16_t>(v); }
    template <class T> void u32(T& v) noexcept { number<std::uint32_t>(v); }
    template <class T> void u64(T& v) noexcept { number<std::uint64_t>(v); }

    // RESERVED: sent as zero, ignored on receipt (RFC 7296 section 3).
    void reserved(std::size_t n) noexcept { (void)take(n); }

    template <class... Parts> void packed8(Parts... parts) noexcept { packed<std::uint8_t>(parts...); }
    template <class... Parts> void packed16(Parts... parts) noexcept { packed<std::uint16_t>(parts...); }

    // The size of a container goes into the field `n` by the field's own read.
    template <class C, class N> void measure(const C&, N&) noexcept {}

    // A field with one allowed value: anything else fails with `e`.
    void expect_u16(std::uint16_t value, ParseErrc e) noexcept
    {
        const auto got = read<std::uint16_t>();
        if (ok() && got != value)
            fail(e);
    }

    void bytes(std::vector<std::uint8_t>& v, std::size_t n)
    {
        const auto s = take(n);
        v.assign(s.begin(), s.end());
    }
    void rest(std::vector<std::uint8_t>& v) { bytes(v, remaining()); }

    void address(net::IpAddress& a, net::IpAddress::Family family) noexcept
    {
        const auto s = take(address_length(family));
        if (ok())
            a = net::IpAddress::from_bytes(family, s.data());
    }

    // `count` elements, each at least `min_size` bytes: a count the bytes cannot
    // hold is refused before anything is allocated.
    template <class T>
    void array(std::vector<T>& v, std::size_t count, std::size_t min_size, std::size_t max)
    {
        if (count > max)
            return fail(ParseErrc::too_many);
        if (count * min_size > remaining())
            return fail(ParseErrc::bad_length);
        v.clear();
        v.reserve(count);
        for (std::size_t i = 0; i < count && ok(); ++i)
            element(v.emplace_back());
    }

    // Elements until the bytes end.
    template <class T>
    void until_end(std::vector<T>& v, std::size_t max)
    {
        v.clear();
        while (ok() && remaining() > 0) {
            if (v.size() == max)
                return fail(ParseErrc::too_many);
            element(v.emplace_back());
        }
    }

    // RFC 7296 section 3.3: proposals and transforms, each led by
    //   | Last Substruc |   RESERVED    |          Length               |
    // where Last Substruc is 0 on the last one and `more` before it. With
    // `count`, the number found must equal it (Num Transforms).
    template <class T>
    void substructures(std::vector<T>& v, std::uint8_t more, std::size_t max,
                       std::optional<std::size_t> count = std::nullopt)
    {
        v.clear();
        while (ok() && remaining() > 0) {
            if (v.size() == max)
                return fail(ParseErrc::too_many);
            const auto last_substruc = read<std::uint8_t>();
            reserved(1);
            const auto length = read<std::uint16_t>();
            if (!ok())
                return;
            if (last_substruc != 0 && last_substruc != more)
                return fail(ParseErrc::invalid_syntax);
            if (length < 4 || length - 4u > remaining())
                return fail(ParseErrc::bad_length);
            Decoder inner(take(length - 4u));
            T::layout(v.emplace_back(), inner);
            inner.finish();
            if (!inner.ok())
                return fail(inner.error());
            if (last_substruc == 0) {
                if (remaining() != 0)
                    return fail(ParseErrc::bad_length);
                break;
            }
            if (remaining() == 0)     // "more" promised, nothing follows
                return fail(ParseErrc::truncated);
        }
        if (ok() && count && v.size() != *count)
            fail(ParseErrc::bad_length);
    }

private:
    template <class W, class T>
    void number(T& v) noexcept
    {
        static_assert(sizeof(T) == sizeof(W), "field width differs from its type");
        v = static_cast<T>(read<W>());
    }

    template <class W>
    [[nodiscard]] W read() noexcept
    {
        const W value = in_.number<W>();
        if (!in_.ok())
            fail(ParseErrc::truncated);
        return value;
    }

    [[nodiscard]] std::span<const std::uint8_t> take(std::size_t n) noexcept
    {
        const auto s = in_.take(n);
        if (!in_.ok())
            fail(ParseErrc::truncated);
        return s;
    }

    template <class W, class... Parts>
    void packed(Parts... parts) noexcept
    {
        const W word = read<W>();
        (unpack(word, parts), ...);
    }
    template <class W>
    static void unpack(W word, Flag<bool> f) noexcept { f.value = ((word >> f.position) & 1u) != 0; }
    template <class W, class T>
    static void unpack(W word, Field<T> f) noexcept
    {
        const auto mask = static_cast<unsigned>((1ull << f.width) - 1);
        f.value = static_cast<T>((static_cast<unsigned>(word) >> f.shift) & mask);
    }

    template <class T>
    void element(T& e)
    {
        if constexpr (std::is_integral_v<T>)
            number<T>(e);
        else
            T::layout(e, *this);
    }

    wire::Reader in_;
    std::optional<ParseErrc> error_;
};

class Encoder {
public:
    static constexpr bool decoding = false;

    explicit Encoder(std::vector<std::uint8_t>& out) noexcept : out_(out) {}

    // False once something could not be encoded (a size too big for its
    // field, a count over the caps): the bytes are then not to be sent.
    [[nodiscard]] bool ok() const noexcept { return !error_; }
    [[nodiscard]] ParseErrc error() const noexcept { return error_.value_or(ParseErrc::invalid_syntax); }
    void fail(ParseErrc e) noexcept
    {
        if (!error_)
            error_ = e;
    }
    [[nodiscard]] std::size_t position() const noexcept { return out_.position(); }
    [[nodiscard]] wire::Writer& writer() noexcept { return out_; }

    template <class T> void u8(const T& v) { out_.u8(static_cast<std::uint8_t>(v)); }
    template <class T> void u16(const T& v) { out_.u16(static_cast<std::uint16_t>(v)); }
    template <class T> void u32(const T& v) { out_.u32(static_cast<std::uint32_t>(v)); }
    template <class T> void u64(const T& v) { out_.u64(static_cast<std::uint64_t>(v)); }

    void reserved(std::size_t n) { out_.zeros(n); }

    template <class... Parts> void packed8(Parts... parts) { packed<std::uint8_t>(parts...); }
    template <class... Parts> void packed16(Parts... parts) { packed<std::uint16_t>(parts...); }

    template <class C, class N>
    void measure(const C& c, N& n) noexcept
    {
        if (c.size() > std::numeric_limits<N>::max())
            fail(ParseErrc::bad_length);
        n = static_cast<N>(c.size());
    }

    void expect_u16(std::uint16_t value, ParseErrc) { out_.u16(value); }

    void bytes(const std::vector<std::uint8_t>& v, std::size_t n)
    {
        if (v.size() != n)
            return fail(ParseErrc::bad_length);
        out_.bytes(v);
    }
    void rest(const std::vector<std::uint8_t>& v) { out_.bytes(v); }

    void address(const net::IpAddress& a, net::IpAddress::Family family)
    {
        if (a.family() != family)
            return fail(ParseErrc::invalid_syntax);
        out_.bytes({a.bytes(), a.size()});
    }

    template <class T>
    void array(const std::vector<T>& v, std::size_t count, std::size_t, std::size_t max)
    {
        if (v.size() > max)
            return fail(ParseErrc::too_many);
        if (v.size() != count)
            return fail(ParseErrc::bad_length);
        for (const T& e : v)
            element(e);
    }

    template <class T>
    void until_end(const std::vector<T>& v, std::size_t max)
    {
        if (v.size() > max)
            return fail(ParseErrc::too_many);
        for (const T& e : v)
            element(e);
    }

    template <class T>
    void substructures(const std::vector<T>& v, std::uint8_t more, std::size_t max,
                       std::optional<std::size_t> = std::nullopt)
    {
        if (v.size() > max)
            return fail(ParseErrc::too_many);
        for (std::size_t i = 0; i < v.size(); ++i) {
            const std::size_t start = position();
            out_.u8(i + 1 == v.size() ? std::uint8_t{0} : more);
            out_.u8(0);
            out_.u16(0);   // Length, patched below
            T::layout(v[i], *this);
            const std::size_t length = position() - start;
            if (length > std::numeric_limits<std::uint16_t>::max())
                return fail(ParseErrc::bad_length);
            out_.patch(start + 2, static_cast<std::uint16_t>(length));
        }
    }

private:
    template <class W, class... Parts>
    void packed(Parts... parts)
    {
        W word = 0;
        (pack(word, parts), ...);
        out_.number<W>(word);
    }
    template <class W, class B>
    static void pack(W& word, Flag<B> f) noexcept
    {
        if (f.value)
            word = static_cast<W>(word | (1u << f.position));
    }
    template <class W, class T>
    void pack(W& word, Field<T> f) noexcept
    {
        const auto mask = static_cast<unsigned>((1ull << f.width) - 1);
        const auto value = static_cast<unsigned>(f.value);
        if (value > mask)
            return fail(ParseErrc::invalid_syntax);
        word = static_cast<W>(word | (value << f.shift));
    }

    template <class T>
    void element(const T& e)
    {
        if constexpr (std::is_integral_v<T>)
            out_.number<T>(e);
        else
            T::layout(e, *this);
    }

    wire::Writer out_;
    std::optional<ParseErrc> error_;
};

} // namespace mesh::ike::layout
