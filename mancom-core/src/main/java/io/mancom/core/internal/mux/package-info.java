/**
 * The ManCom mux: many flow-controlled streams over one link, as Netty handlers and child channels.
 * The wire protocol is in {@code docs/protocol.md}.
 *
 * <h2>Layers</h2>
 * <ul>
 *   <li>{@link io.mancom.core.internal.mux.MuxFrameDecoder} / {@link io.mancom.core.internal.mux.MuxFrameEncoder}:
 *       bytes to {@link io.mancom.core.internal.mux.MuxFrame}s and back; no state.</li>
 *   <li>{@link io.mancom.core.internal.mux.MuxSessionHandler}: the session of one link: pipeline events,
 *       roles, keepalive, dispatch of frames. Its parts (package-private): {@code MuxStreamTable}
 *       (streams by id, ids, preamble routing, limits, refusals), {@code MuxFrameWriter}
 *       (coalescing, flush scheduling, turns on a full link), {@code MuxShutdown} (the session's
 *       end, linger, stall detection), {@code ReceiveWindows} (receive credit policy) and
 *       {@code MuxFrameLogger} (every frame at TRACE).</li>
 *   <li>{@link io.mancom.core.internal.mux.MuxStreamChannel}: one stream as a child {@code Channel} of the
 *       link, so the handlers written for a socket run on it unchanged. Its parts:
 *       {@code MuxStreamState} (half-close state and credit), {@code MuxStreamInbound} (the receive
 *       queue and read model), {@code MuxStreamOutbound} (Data frames out, held writability).</li>
 *   <li>{@link io.mancom.core.internal.mux.MuxSettings}: the {@code mux} config block.</li>
 *   <li>{@link io.mancom.core.internal.mux.MuxStreamAcceptor}: where the runtime takes inbound streams.</li>
 * </ul>
 *
 * <h2>Wiring a link</h2>
 * <pre>{@code
 * MuxSettings mux = MuxSettings.of(serviceSettings);
 * MuxSessionHandler session = MuxSessionHandler.install(linkChannel, mux,
 *         mux.roleFor(isSerialOrUsb, dialed),
 *         (stream, service) -> {              // on the loop, before the stream is registered
 *             stream.pipeline().addLast(...); // the same handlers a TCP connection gets
 *             return true;                    // false refuses it (CloseStream)
 *         });
 * session.openStream("telemetry", handlers).addListener(...);   // outbound
 * session.terminationFuture().addListener(...);                 // the link's session ended
 * }</pre>
 */
package io.mancom.core.internal.mux;
