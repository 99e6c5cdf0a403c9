package io.mancom.tcp.internal;

import com.typesafe.config.ConfigFactory;
import io.mancom.core.spi.Settings;
import io.mancom.core.spi.TcpSettings;
import org.junit.jupiter.api.Test;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The compiled program makes the same decision as {@link TcpSettings#admits}: run by a small
 * classic-BPF interpreter (the instructions the compiler emits, with the kernel's meaning) on the
 * IP headers of IPv4 and IPv6 packets.
 */
class PeerFilterProgramTest {

    static TcpSettings rules(String allow, String deny) {
        return TcpSettings.from(Settings.of(ConfigFactory.parseString("tcp { backlog = 1, no-delay = on, "
                + "keep-alive = off, max-connections = 0, max-connections-per-peer = 0, idle-timeout = off, "
                + "read-timeout = off, allow = [" + allow + "], deny = [" + deny + "] }"), "test"));
    }

    /** Runs {@code p} on a packet whose network header is {@code ip}; the return value (0 = drop). */
    static int run(PeerFilterProgram p, byte[] ip) {
        int a = 0;
        int x = 0;
        int[] mem = new int[16];
        for (int pc = 0; ; pc++) {
            int code = p.code(pc);
            int k = p.k(pc);
            switch (code) {
                case PeerFilterProgram.LD_B_ABS -> a = ip[k - PeerFilterProgram.NET] & 0xff;
                case PeerFilterProgram.LD_W_ABS -> {
                    int o = k - PeerFilterProgram.NET;
                    a = ((ip[o] & 0xff) << 24) | ((ip[o + 1] & 0xff) << 16) | ((ip[o + 2] & 0xff) << 8) | (ip[o + 3] & 0xff);
                }
                case PeerFilterProgram.LD_MEM -> a = mem[k];
                case PeerFilterProgram.ST -> mem[k] = a;
                case PeerFilterProgram.RSH_K -> a = a >>> k;
                case PeerFilterProgram.AND_K -> a = a & k;
                case PeerFilterProgram.TAX -> x = a;
                case PeerFilterProgram.TXA -> a = x;
                case PeerFilterProgram.JA -> pc += k;
                case PeerFilterProgram.JEQ_K -> pc += a == k ? p.jt(pc) : p.jf(pc);
                case PeerFilterProgram.RET_K -> {
                    return k;
                }
                default -> throw new AssertionError("unexpected opcode " + code + " at " + pc);
            }
        }
    }

    static byte[] header(InetAddress src) {
        byte[] a = src.getAddress();
        if (a.length == 4) {
            byte[] h = new byte[20];
            h[0] = 0x45;
            System.arraycopy(a, 0, h, 12, 4);
            return h;
        }
        byte[] h = new byte[40];
        h[0] = 0x60;
        System.arraycopy(a, 0, h, 8, 16);
        return h;
    }

    @Test
    void theProgramDecidesAsTheRuleForManyAddressesAndRuleSets() throws Exception {
        List<String[]> sets = List.of(
                new String[] {"\"127.0.0.1/32\"", ""},
                new String[] {"\"127.0.0.1/32\", \"10.0.0.0/8\", \"::1/128\"", ""},
                new String[] {"", "\"127.0.0.2\", \"fe80::/10\""},
                new String[] {"\"0.0.0.0/0\"", "\"192.168.1.0/24\""},
                new String[] {"\"::/0\"", "\"::ffff:10.1.0.0/112\""},
                new String[] {"\"2001:db8::/33\", \"172.16.0.0/12\"", "\"2001:db8:7fff::/48\""},
                new String[] {"\"::ffff:0:0/96\"", ""});
        Random r = new Random(21);
        for (String[] set : sets) {
            TcpSettings tcp = rules(set[0], set[1]);
            PeerFilterProgram p = PeerFilterProgram.of(tcp);
            for (int i = 0; i < 4000; i++) {
                InetAddress a = address(r, i);
                boolean kept = run(p, header(a)) != 0;
                assertThat(kept).as("%s with allow [%s] deny [%s]", a, set[0], set[1]).isEqualTo(tcp.admits(a));
            }
        }
    }

    private static InetAddress address(Random r, int i) throws Exception {
        byte[] b;
        switch (i % 6) {
            case 0 -> b = new byte[] {127, 0, 0, (byte) r.nextInt(4)};
            case 1 -> b = new byte[] {10, (byte) r.nextInt(3), (byte) r.nextInt(256), (byte) r.nextInt(256)};
            case 2 -> {
                b = new byte[4];
                r.nextBytes(b);
            }
            case 3 -> {
                b = new byte[16];
                r.nextBytes(b);
            }
            case 4 -> {
                b = InetAddress.getByName("2001:db8::").getAddress();
                b[4] = (byte) r.nextInt(256);
                b[5] = (byte) r.nextInt(256);
            }
            default -> b = InetAddress.getByName(r.nextBoolean() ? "::1" : "fe80::1").getAddress();
        }
        return InetAddress.getByAddress(b);
    }

    @Test
    void anIpv4PeerIsMatchedAsItsMappedAddress() throws Exception {
        TcpSettings tcp = rules("\"::ffff:192.168.0.0/112\"", "");
        PeerFilterProgram p = PeerFilterProgram.of(tcp);
        InetAddress in = InetAddress.getByName("192.168.3.4");
        assertThat(in).isInstanceOf(Inet4Address.class);
        assertThat(run(p, header(in))).isNotZero();
        assertThat(run(p, header(InetAddress.getByName("192.169.0.1")))).isZero();
    }

    @Test
    void hundredsOfBlocksStayWithinTheJumpRange() {
        StringBuilder allow = new StringBuilder();
        for (int i = 0; i < 250; i++) {
            allow.append(i == 0 ? "" : ", ").append("\"10.").append(i).append(".0.0/16\", \"2001:db8:").append(Integer.toHexString(i)).append("::/48\"");
        }
        PeerFilterProgram p = PeerFilterProgram.of(rules(allow.toString(), ""));
        assertThat(p.fitsKernel()).isTrue();
        assertThat(run(p, header(addr("10.249.1.1")))).isNotZero();
        assertThat(run(p, header(addr("10.250.1.1")))).isZero();
        assertThat(run(p, header(addr("2001:db8:f9::1")))).isNotZero();
    }

    private static InetAddress addr(String s) {
        try {
            return InetAddress.getByName(s);
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }
}
