/**
 * The C API of ManCom, seen from Java: the error codes C programs get ({@link io.mancom.nativeshim.ErrorCode}).
 *
 * <p>The C side is {@code mancom.h} and {@code libmancom.so} in the distribution folder
 * ({@code mancom-native/target/dist}); {@code docs/c-api.md} is its manual. The shim starts a JVM
 * in the C process and calls {@code io.mancom.nativeshim.internal.Bootstrap} once; everything
 * else in this module is internal.
 */
package io.mancom.nativeshim;
