#include "tunnel/tun_steering.hpp"

#include "net/headers.hpp"
#include "tunnel/traffic_class.hpp"

#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstddef>
#include <cstdint>

namespace mesh::tunnel {

namespace {
constexpr bpf_insn insn(std::uint8_t code, std::uint8_t dst, std::uint8_t src, std::int16_t off, std::int32_t imm)
{
    bpf_insn i{};
    i.code = code;
    i.dst_reg = dst & 0x0f;
    i.src_reg = src & 0x0f;
    i.off = off;
    i.imm = imm;
    return i;
}

constexpr auto len_offset = static_cast<std::int16_t>(offsetof(__sk_buff, len));

// classify() (tunnel/traffic_class.hpp) for what a TUN transmits: whole
// IPv4 and IPv6 headers, so versions and header lengths go unchecked. The
// packet starts at its IP header (a TUN has no link header). LD_ABS and
// LD_IND load in host order: H at 0 is version(4) | IHL(4) | DSCP(6) | ECN(2)
// for IPv4, version(4) | DSCP(6) | ECN(2) | flow label(4) for IPv6; H at the
// TCP header's byte 12 is data offset(4) | reserved(4) | flags(8). A packet
// too short for a load ends the program with 0: bulk. Registers: r6 the
// context LD_ABS wants, r7 the IP version, r8 the DSCP, then the TCP
// header's offset, r9 the TCP segment's length; LD_ABS/LD_IND clobber r1-r5.
constexpr std::array program{
    insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0),          //  0: r6 = skb
    insn(BPF_LD | BPF_ABS | BPF_H, 0, 0, 0, 0),                             //  1: r0 = bytes 0-1
    insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_7, BPF_REG_0, 0, 0),          //  2: r7 = r0
    insn(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_7, 0, 0, 12),                 //  3: r7 = version
    insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_8, BPF_REG_0, 0, 0),          //  4: r8 = r0
    insn(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_7, 0, 3, 6),                    //  5: IPv6: 9
    insn(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_8, 0, 0, 0xff),               //  6: IPv4: the TOS byte
    insn(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_8, 0, 0, 2),                  //  7: its DSCP
    insn(BPF_JMP | BPF_JA, 0, 0, 2, 0),                                     //  8: to 11
    insn(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_8, 0, 0, 6),                  //  9: IPv6: drop ECN and flow label bits
    insn(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_8, 0, 0, 0x3f),               // 10: its DSCP
    insn(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_8, 0, 27, dscp_cs6),            // 11: CS6: 39
    insn(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_8, 0, 26, dscp_cs7),            // 12: CS7: 39
    insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_6, len_offset, 0),   // 13: r2 = skb->len
    insn(BPF_JMP | BPF_JGT | BPF_K, BPF_REG_2, 0, 22, static_cast<std::int32_t>(small_packet_bytes)),  // 14: big: 37
    insn(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_7, 0, 9, 6),                    // 15: IPv6: 25
    insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_8, BPF_REG_0, 0, 0),          // 16: IPv4: r8 = bytes 0-1
    insn(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_8, 0, 0, 6),                  // 17
    insn(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_8, 0, 0, 0x3c),               // 18: r8 = IHL * 4
    insn(BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, 9),                             // 19: r0 = protocol
    insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_0, 0, 18, net::protocol_tcp),   // 20: not TCP: 39
    insn(BPF_LD | BPF_ABS | BPF_H, 0, 0, 0, 2),                             // 21: r0 = total length
    insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_9, BPF_REG_0, 0, 0),          // 22
    insn(BPF_ALU64 | BPF_SUB | BPF_X, BPF_REG_9, BPF_REG_8, 0, 0),          // 23: r9 = total length - IHL * 4
    insn(BPF_JMP | BPF_JA, 0, 0, 5, 0),                                     // 24: to 30
    insn(BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, 6),                             // 25: IPv6: r0 = next header
    insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_0, 0, 12, net::protocol_tcp),   // 26: not TCP: 39
    insn(BPF_LD | BPF_ABS | BPF_H, 0, 0, 0, 4),                             // 27: r0 = payload length
    insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_9, BPF_REG_0, 0, 0),          // 28: r9 = r0
    insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_8, 0, 0, static_cast<std::int32_t>(net::ipv6_header_bytes)),  // 29: r8 = 40
    insn(BPF_LD | BPF_IND | BPF_H, 0, BPF_REG_8, 0, 12),                    // 30: r0 = TCP bytes 12-13
    insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_0, 0, 0),          // 31
    insn(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_2, 0, 0, tcp_fin_syn_rst),    // 32
    insn(BPF_JMP | BPF_JNE | BPF_K, BPF_REG_2, 0, 5, 0),                    // 33: FIN, SYN or RST: 39
    insn(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_0, 0, 0, 10),                 // 34
    insn(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_0, 0, 0, 0x3c),               // 35: r0 = data offset * 4
    insn(BPF_JMP | BPF_JNE | BPF_X, BPF_REG_0, BPF_REG_9, 2, 0),            // 36: data in it: 39
    insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, bulk_queue),         // 37: a pure ACK, or big
    insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),                                   // 38
    insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, priority_queue),     // 39
    insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),                                   // 40
};
} // namespace

net::FileDescriptor load_steering_program() noexcept
{
    static constexpr char license[] = "GPL";
    bpf_attr attr{};
    attr.prog_type = BPF_PROG_TYPE_SOCKET_FILTER;
    attr.insns = reinterpret_cast<std::uint64_t>(program.data());
    attr.insn_cnt = static_cast<std::uint32_t>(program.size());
    attr.license = reinterpret_cast<std::uint64_t>(license);
    return net::FileDescriptor(static_cast<int>(::syscall(SYS_bpf, BPF_PROG_LOAD, &attr, sizeof attr)));
}

const SteeringProgram& shared_steering_program() noexcept
{
    static const SteeringProgram program = [] {
        SteeringProgram loaded{load_steering_program()};
        if (!loaded.fd)
            loaded.error = errno;
        return loaded;
    }();
    return program;
}

} // namespace mesh::tunnel
