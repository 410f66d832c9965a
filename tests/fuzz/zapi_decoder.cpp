// libFuzzer target for the ZAPI codec's receive side (routing/zapi_codec.hpp):
// FrameSplitter and every decoder over arbitrary bytes. The first input byte
// sets the size of the pieces the stream is fed in (as reads would cut it);
// the rest is the stream. Properties:
//   - any input is framed or refused, never a crash or an overread (ASan);
//   - fed in pieces or at once, the splitter yields the same frames and ends
//     in the same state (error, or bytes pending);
//   - a frame's length is its header's length, within 10..16384;
//   - a framing error is sticky until reset();
//   - every decoder takes every body (and the raw input) without crashing.

#include "routing/zapi_codec.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

namespace {

namespace routing = mesh::routing;
namespace zapi = mesh::routing::zapi;

struct Outcome {
    std::vector<std::vector<std::uint8_t>> frames; // header and body of each
    routing::ZapiError end = routing::ZapiError::need_more_bytes;
    std::size_t pending = 0;
    bool operator==(const Outcome&) const = default;
};

void decode_all(std::span<const std::uint8_t> body)
{
    (void)routing::decode_header(body);
    (void)routing::decode_route_notify_owner(body);
    (void)routing::decode_capabilities(body);
}

// Pulls every frame now available; false once a framing error ended the stream.
bool drain(routing::FrameSplitter& splitter, Outcome& out)
{
    for (;;) {
        const auto frame = splitter.next();
        if (!frame) {
            out.end = frame.error();
            if (frame.error() == routing::ZapiError::need_more_bytes)
                return true;
            if (splitter.next().error() != frame.error()) // sticky
                std::abort();
            return false;
        }
        const routing::Header& h = frame->header;
        if (h.length < zapi::header_size || h.length > zapi::max_packet_size || frame->body.size() != h.body_size())
            std::abort();
        decode_all(frame->body);
        std::vector<std::uint8_t> bytes(frame->body.data() - zapi::header_size, frame->body.data() + frame->body.size());
        if (routing::decode_header(bytes) != h)
            std::abort();
        out.frames.push_back(std::move(bytes));
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
{
    if (size == 0)
        return 0;
    const std::size_t piece = data[0] + 1u;
    const std::span<const std::uint8_t> stream(data + 1, size - 1);
    decode_all(stream);

    Outcome whole;
    routing::FrameSplitter at_once;
    at_once.feed(stream);
    drain(at_once, whole);
    whole.pending = whole.end == routing::ZapiError::need_more_bytes ? at_once.pending() : 0;

    Outcome cut;
    routing::FrameSplitter in_pieces;
    for (std::size_t offset = 0; offset < stream.size(); offset += piece) {
        in_pieces.feed(stream.subspan(offset, std::min(piece, stream.size() - offset)));
        if (!drain(in_pieces, cut))
            break;
    }
    cut.pending = cut.end == routing::ZapiError::need_more_bytes ? in_pieces.pending() : 0;
    if (cut != whole)
        std::abort();

    in_pieces.reset();
    if (in_pieces.pending() != 0 || in_pieces.next().error() != routing::ZapiError::need_more_bytes)
        std::abort();
    return 0;
}
