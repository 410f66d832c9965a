#include "tunnel/tun_steering.hpp"

#include "tunnel/traffic_class.hpp"

#include <linux/bpf.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
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

// The packet starts at its IP header (a TUN has no link header). LD_ABS H
// loads the first two bytes in host order: version(4) | IHL(4) | DSCP(6) |
// ECN(2) for IPv4, version(4) | DSCP(6) | ECN(2) | flow label(4) for IPv6.
// A packet too short for the load ends the program with 0: bulk.
constexpr std::array program{
    insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_6, BPF_REG_1, 0, 0),          //  0: r6 = skb (LD_ABS's context)
    insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_6, len_offset, 0),   //  1: r2 = skb->len
    insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, priority_queue),     //  2: r0 = priority
    insn(BPF_JMP | BPF_JLE | BPF_K, BPF_REG_2, 0, 13, static_cast<std::int32_t>(small_packet_bytes)),  //  3: small: 17
    insn(BPF_LD | BPF_ABS | BPF_H, 0, 0, 0, 0),                             //  4: r0 = bytes 0-1
    insn(BPF_ALU64 | BPF_MOV | BPF_X, BPF_REG_2, BPF_REG_0, 0, 0),          //  5: r2 = r0
    insn(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_2, 0, 0, 12),                 //  6: r2 = version
    insn(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_2, 0, 3, 6),                    //  7: IPv6: 11
    insn(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_0, 0, 0, 0xff),               //  8: IPv4: the TOS byte
    insn(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_0, 0, 0, 2),                  //  9: its DSCP
    insn(BPF_JA | BPF_JMP, 0, 0, 2, 0),                                     // 10: to 13
    insn(BPF_ALU64 | BPF_RSH | BPF_K, BPF_REG_0, 0, 0, 6),                  // 11: IPv6: drop ECN and flow label bits
    insn(BPF_ALU64 | BPF_AND | BPF_K, BPF_REG_0, 0, 0, 0x3f),               // 12: its DSCP
    insn(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 3, dscp_cs6),             // 13: CS6: 17
    insn(BPF_JMP | BPF_JEQ | BPF_K, BPF_REG_0, 0, 2, dscp_cs7),             // 14: CS7: 17
    insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, bulk_queue),         // 15
    insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),                                   // 16
    insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, 0, priority_queue),     // 17
    insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),                                   // 18
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

} // namespace mesh::tunnel
