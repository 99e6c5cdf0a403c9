package io.mancom.core.internal.forward;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.local.LocalAddress;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;

import static org.assertj.core.api.Assertions.assertThat;

/** The PROXY protocol v2 header, byte for byte, against the specification's layout. */
class ProxyV2Test {
    private static String hex(ByteBuf b) {
        try {
            return ByteBufUtil.hexDump(b);
        } finally {
            b.release();
        }
    }

    private static InetSocketAddress at(String ip, int port) throws Exception {
        return new InetSocketAddress(InetAddress.getByName(ip), port);
    }

    @Test
    void ipv4() throws Exception {
        ByteBuf h = ProxyV2.header(UnpooledByteBufAllocator.DEFAULT, at("192.0.2.1", 51234), at("198.51.100.7", 443));
        assertThat(hex(h)).isEqualTo("0d0a0d0a000d0a515549540a" + "21" + "11" + "000c"
                + "c0000201" + "c6336407" + "c822" + "01bb");
    }

    @Test
    void ipv6() throws Exception {
        ByteBuf h = ProxyV2.header(UnpooledByteBufAllocator.DEFAULT, at("2001:db8::1", 1), at("::1", 2));
        assertThat(hex(h)).isEqualTo("0d0a0d0a000d0a515549540a" + "21" + "21" + "0024"
                + "20010db8000000000000000000000001" + "00000000000000000000000000000001" + "0001" + "0002");
    }

    @Test
    void mixedFamiliesAreSentAsIpv6WithTheIpv4AddressMapped() throws Exception {
        ByteBuf h = ProxyV2.header(UnpooledByteBufAllocator.DEFAULT, at("127.0.0.1", 80), at("::1", 81));
        assertThat(hex(h)).isEqualTo("0d0a0d0a000d0a515549540a" + "21" + "21" + "0024"
                + "00000000000000000000ffff7f000001" + "00000000000000000000000000000001" + "0050" + "0051");
    }

    @Test
    void aLinkWithoutIpAddressesIsLocal() {
        ByteBuf h = ProxyV2.header(UnpooledByteBufAllocator.DEFAULT, new LocalAddress("a"), new LocalAddress("b"));
        assertThat(hex(h)).isEqualTo("0d0a0d0a000d0a515549540a" + "20" + "00" + "0000");
    }
}
