package io.mancom.tcp.internal;

import io.mancom.core.spi.AddressBlock;
import io.mancom.core.spi.TcpSettings;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code tcp.allow} / {@code tcp.deny} compiled to a classic BPF socket filter, the same decision
 * as {@link TcpSettings#admits}: a packet whose source is in a {@code deny} block is dropped, then
 * one in no {@code allow} block (when there are any); everything else is kept whole.
 *
 * <h2>What the program reads</h2>
 * On a TCP socket the kernel runs the filter with the packet's data at the TCP header, so the
 * program reads the IP header through the {@code SKF_NET_OFF} window: the version nibble of byte
 * 0, then the IPv4 source (bytes 12..15) or the IPv6 source (bytes 8..23). An IPv4 packet is
 * matched as its mapped address {@code ::ffff:a.b.c.d}, as {@link AddressBlock} defines, so a
 * dual-stack listener filters its IPv4 peers by the same blocks. Blocks that hold only mapped
 * addresses are left out of the IPv6 part: no IPv6 packet carries a mapped source.
 *
 * <pre>
 *   ldb [net+0]; rsh #4; jeq #6, +0, +1; ja v6
 *   v4: ld [net+12]; tax
 *       per deny block:  txa; and #mask; jeq #net, +0, +1; ret #0
 *       per allow block: txa; and #mask; jeq #net, +0, +1; ret #-1
 *       ret #0 (some allow block exists) or ret #-1
 *   v6: ld [net+8]; st M[0]; ld [net+12]; st M[1]; ld [net+16]; st M[2]; ld [net+20]; st M[3]
 *       per block, per 32-bit word of its prefix: ld M[i]; and #mask; jeq #word, +0, +(to the next block)
 *       then ret #0 (deny) or ret #-1 (allow); the same default as v4
 * </pre>
 *
 * Every conditional jump is local (to the next block or the next instruction), so the program
 * stays within the 8-bit jump offsets whatever the number of blocks; the one long jump is a
 * {@code ja}, whose offset is 32 bits.
 *
 * <p>Instructions are kept as {@code long}s: code in bits 48..63, jt 40..47, jf 32..39, k 0..31.
 * Immutable; thread-safe.
 */
public final class PeerFilterProgram {
    /** The kernel's limit on a classic program's length (BPF_MAXINSNS). */
    public static final int MAX_INSTRUCTIONS = 4096;

    static final int LD_W_ABS = 0x20;
    static final int LD_B_ABS = 0x30;
    static final int LD_MEM = 0x60;
    static final int ST = 0x02;
    static final int RSH_K = 0x74;
    static final int AND_K = 0x54;
    static final int JEQ_K = 0x15;
    static final int JA = 0x05;
    static final int RET_K = 0x06;
    static final int TAX = 0x07;
    static final int TXA = 0x87;
    /** SKF_NET_OFF: loads at this offset and above read from the network (IP) header. */
    static final int NET = -0x100000;
    static final int ACCEPT = 0xffffffff;
    static final int DROP = 0;

    private final long[] instructions;

    private PeerFilterProgram(long[] instructions) {
        this.instructions = instructions;
    }

    /** The program for a service's tcp block; {@link TcpSettings#filtersPeers()} should be true. */
    public static PeerFilterProgram of(TcpSettings tcp) {
        List<Long> v4 = new ArrayList<>();
        v4.add(insn(LD_W_ABS, 0, 0, NET + 12));
        v4.add(insn(TAX, 0, 0, 0));
        for (AddressBlock b : tcp.deny()) {
            v4Block(v4, b, DROP);
        }
        for (AddressBlock b : tcp.allow()) {
            v4Block(v4, b, ACCEPT);
        }
        int fallThrough = tcp.allow().isEmpty() ? ACCEPT : DROP;
        v4.add(insn(RET_K, 0, 0, fallThrough));

        List<Long> v6 = new ArrayList<>();
        for (int w = 0; w < 4; w++) {
            v6.add(insn(LD_W_ABS, 0, 0, NET + 8 + 4 * w));
            v6.add(insn(ST, 0, 0, w));
        }
        for (AddressBlock b : tcp.deny()) {
            v6Block(v6, b, DROP);
        }
        for (AddressBlock b : tcp.allow()) {
            v6Block(v6, b, ACCEPT);
        }
        v6.add(insn(RET_K, 0, 0, fallThrough));

        List<Long> all = new ArrayList<>();
        all.add(insn(LD_B_ABS, 0, 0, NET));
        all.add(insn(RSH_K, 0, 0, 4));
        all.add(insn(JEQ_K, 0, 1, 6));
        all.add(insn(JA, 0, 0, v4.size()));
        all.addAll(v4);
        all.addAll(v6);
        long[] out = new long[all.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = all.get(i);
        }
        return new PeerFilterProgram(out);
    }

    private static void v4Block(List<Long> out, AddressBlock b, int verdict) {
        int prefix = b.v4Prefix();
        if (prefix < 0) {
            return; // an IPv6-only block: no IPv4 packet is in it
        }
        int mask = prefix == 0 ? 0 : (int) (0xffffffffL << (32 - prefix));
        out.add(insn(TXA, 0, 0, 0));
        out.add(insn(AND_K, 0, 0, mask));
        out.add(insn(JEQ_K, 0, 1, (int) b.v4Address() & mask));
        out.add(insn(RET_K, 0, 0, verdict));
    }

    private static void v6Block(List<Long> out, AddressBlock b, int verdict) {
        if (!b.holdsIpv6()) {
            // Within ::ffff:0:0/96: IPv4 packets only. No IPv6 packet carries a mapped source
            // (RFC 4291 2.5.5.2); the check after accept still catches one that would.
            return;
        }
        byte[] a = b.address();
        List<long[]> words = new ArrayList<>(); // {mask, value}
        for (int w = 0; w < 4; w++) {
            int bits = Math.max(0, Math.min(32, b.prefix() - 32 * w));
            if (bits == 0) {
                break;
            }
            long mask = (0xffffffffL << (32 - bits)) & 0xffffffffL;
            long value = ((a[4 * w] & 0xffL) << 24) | ((a[4 * w + 1] & 0xff) << 16) | ((a[4 * w + 2] & 0xff) << 8)
                    | (a[4 * w + 3] & 0xff);
            words.add(new long[] {mask, value & mask});
        }
        // Instructions of this block after each jeq, up to and including its ret: the jf offset.
        int left = 0;
        for (long[] w : words) {
            left += w[0] == 0xffffffffL ? 2 : 3;
        }
        for (int i = 0; i < words.size(); i++) {
            long[] w = words.get(i);
            out.add(insn(LD_MEM, 0, 0, i));
            left--;
            if (w[0] != 0xffffffffL) {
                out.add(insn(AND_K, 0, 0, (int) w[0]));
                left--;
            }
            left--; // the jeq itself
            out.add(insn(JEQ_K, 0, left + 1, (int) w[1]));
        }
        out.add(insn(RET_K, 0, 0, verdict));
    }

    static long insn(int code, int jt, int jf, int k) {
        if (jt > 255 || jf > 255) {
            throw new IllegalStateException("jump offset out of range: " + jt + "/" + jf);
        }
        return ((long) code << 48) | ((long) jt << 40) | ((long) jf << 32) | (k & 0xffffffffL);
    }

    /** The number of instructions. */
    public int length() {
        return instructions.length;
    }

    /** Whether the kernel takes a program this long. */
    public boolean fitsKernel() {
        return instructions.length <= MAX_INSTRUCTIONS;
    }

    /** Instruction {@code i}'s opcode. */
    public int code(int i) {
        return (int) (instructions[i] >>> 48) & 0xffff;
    }

    /** Instruction {@code i}'s jump-if-true offset. */
    public int jt(int i) {
        return (int) (instructions[i] >>> 40) & 0xff;
    }

    /** Instruction {@code i}'s jump-if-false offset. */
    public int jf(int i) {
        return (int) (instructions[i] >>> 32) & 0xff;
    }

    /** Instruction {@code i}'s constant. */
    public int k(int i) {
        return (int) instructions[i];
    }

    /** The program as {@code struct sock_filter[]}: 8 bytes each, code (u16), jt, jf (u8), k (u32), native order. */
    byte[] toBytes() {
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(8 * instructions.length).order(java.nio.ByteOrder.nativeOrder());
        for (int i = 0; i < instructions.length; i++) {
            b.putShort((short) code(i)).put((byte) jt(i)).put((byte) jf(i)).putInt(k(i));
        }
        return b.array();
    }
}
