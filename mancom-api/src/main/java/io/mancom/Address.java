package io.mancom;

/**
 * Where a link goes, in the terms of its transport: one record per transport. Use a switch
 * over the sealed hierarchy to read the fields of a particular kind.
 *
 * <p>Addresses are immutable values; {@link #toUri()} prints the canonical endpoint URI, which
 * {@link EndPoint#parse(String)} reads back to an equal address.
 */
public sealed interface Address permits TcpAddress, SerialAddress, UsbAddress {

    /** The transport this address belongs to. */
    TransportType type();

    /** The canonical endpoint URI, for example {@code tcp://127.0.0.1:7000}. */
    String toUri();
}
