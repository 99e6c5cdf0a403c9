package io.mancom.daemon.internal;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.mancom.ManComException.Reason;
import io.mancom.core.internal.config.ScopeSettings;
import io.mancom.core.spi.ServiceSettings;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelPipeline;
import io.netty.channel.epoll.EpollDomainSocketChannel;
import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaderValues;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpUtil;
import io.netty.handler.codec.http.HttpVersion;
import io.netty.handler.codec.http.QueryStringDecoder;
import io.netty.util.ReferenceCountUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

/**
 * The daemon's routes, one instance per control connection (docs/daemon.md, "Control protocol"):
 *
 * <pre>
 * GET  /status                      JSON: pid, started, every system service and its owner
 * GET  /metrics                     Prometheus text
 * POST /v1/reload                   re-reads the configuration; JSON report
 * POST /v1/services/NAME/attach     Upgrade: mancom-attach/1; 101, then the owner's protocol
 * </pre>
 *
 * A request the HTTP codec cannot parse (or past the size bounds) gets {@code 400} and the
 * connection is closed; the daemon goes on. Errors of the attach route are JSON bodies
 * {@code {"reason": REASON, "message": ...}} with a {@link Reason} name. After a {@code 101} the
 * HTTP handlers (and this one) leave the pipeline and the service's {@link Owner} takes the
 * connection. Runs on the connection's event loop; status, metrics and reload are built on the
 * daemon's control executor, never on a loop.
 */
final class ControlRoutes extends ChannelInboundHandlerAdapter {
    private static final Logger log = LoggerFactory.getLogger(ControlRoutes.class);
    static final String UPGRADE = "mancom-attach/1";
    private static final String ATTACH_PREFIX = "/v1/services/";
    private static final String ATTACH_SUFFIX = "/attach";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Daemon daemon;
    private final Credentials credentials;
    private final int daemonUid;
    private final Executor executor;
    private final Supplier<String> status;
    private final Supplier<String> metrics;
    private final Supplier<String> reload;
    private boolean upgraded;

    ControlRoutes(Daemon daemon, Credentials credentials, int daemonUid, Executor executor, Supplier<String> status,
                  Supplier<String> metrics, Supplier<String> reload) {
        this.daemon = daemon;
        this.credentials = credentials;
        this.daemonUid = daemonUid;
        this.executor = executor;
        this.status = status;
        this.metrics = metrics;
        this.reload = reload;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (upgraded || !(msg instanceof FullHttpRequest req)) {
            // Bytes after an attach request and before its 101 left: the peer did not wait.
            ReferenceCountUtil.release(msg);
            log.warn("control client sent bytes before the attach was switched; closing it");
            ctx.close();
            return;
        }
        try {
            route(ctx, req);
        } finally {
            req.release();
        }
    }

    private void route(ChannelHandlerContext ctx, FullHttpRequest req) {
        if (!req.decoderResult().isSuccess()) {
            log.info("control client sent a malformed request ({}); closing it", req.decoderResult().cause().toString());
            send(ctx, false, error(HttpResponseStatus.BAD_REQUEST, Reason.PROTOCOL, "malformed HTTP request: "
                    + req.decoderResult().cause().getMessage()));
            return;
        }
        boolean keepAlive = HttpUtil.isKeepAlive(req);
        String path = new QueryStringDecoder(req.uri()).rawPath();
        HttpMethod m = req.method();
        if (path.equals("/status") && m.equals(HttpMethod.GET)) {
            offLoop(ctx, keepAlive, "application/json", status);
        } else if (path.equals("/metrics") && m.equals(HttpMethod.GET)) {
            offLoop(ctx, keepAlive, DaemonMetrics.CONTENT_TYPE, metrics);
        } else if (path.equals("/v1/reload") && m.equals(HttpMethod.POST)) {
            offLoop(ctx, keepAlive, "application/json", reload);
        } else if (path.startsWith(ATTACH_PREFIX) && path.endsWith(ATTACH_SUFFIX)
                && path.length() > ATTACH_PREFIX.length() + ATTACH_SUFFIX.length() && m.equals(HttpMethod.POST)) {
            attach(ctx, req, path.substring(ATTACH_PREFIX.length(), path.length() - ATTACH_SUFFIX.length()));
        } else if (path.equals("/status") || path.equals("/metrics") || path.equals("/v1/reload")
                || path.startsWith(ATTACH_PREFIX)) {
            send(ctx, keepAlive, error(HttpResponseStatus.METHOD_NOT_ALLOWED, Reason.PROTOCOL,
                    m + " " + path + " is not a route: GET /status, GET /metrics, POST /v1/reload,"
                            + " POST /v1/services/NAME/attach"));
        } else {
            send(ctx, keepAlive, error(HttpResponseStatus.NOT_FOUND, Reason.PROTOCOL, "no such route: " + path
                    + " (GET /status, GET /metrics, POST /v1/reload, POST /v1/services/NAME/attach)"));
        }
    }

    private void attach(ChannelHandlerContext ctx, FullHttpRequest req, String rawName) {
        String service;
        try {
            service = QueryStringDecoder.decodeComponent(rawName, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            refuse(ctx, HttpResponseStatus.BAD_REQUEST, Reason.PROTOCOL, "bad service name in the path: " + rawName);
            return;
        }
        String upgrade = req.headers().get(HttpHeaderNames.UPGRADE);
        if (upgrade == null || !upgrade.trim().equalsIgnoreCase(UPGRADE)) {
            refuse(ctx, HttpResponseStatus.BAD_REQUEST, Reason.PROTOCOL, "attach needs the header Upgrade: " + UPGRADE
                    + (upgrade == null ? "" : " (got " + upgrade + ")"));
            return;
        }
        String style = req.headers().get("ManCom-Style", "callbacks").trim();
        if (!style.equals("callbacks") && !style.equals("blocking")) {
            refuse(ctx, HttpResponseStatus.BAD_REQUEST, Reason.PROTOCOL,
                    "ManCom-Style must be callbacks or blocking, not " + style);
            return;
        }
        Owner owner = daemon.owner(service);
        ServiceSettings settings = daemon.settings(service);
        if (owner == null || settings == null) {
            refuse(ctx, HttpResponseStatus.NOT_FOUND, Reason.UNKNOWN_SERVICE, "service '" + service
                    + "' is not a scope = system service in the daemon's configuration (system services: "
                    + (daemon.services().isEmpty() ? "none" : String.join(", ", daemon.services())) + ")");
            return;
        }
        Peer peer;
        try {
            peer = credentials.peer(((EpollDomainSocketChannel) ctx.channel()).peerCredentials());
        } catch (IOException | ClassCastException e) {
            refuse(ctx, HttpResponseStatus.FORBIDDEN, Reason.PERMISSION_DENIED,
                    "cannot read the credentials of the process attaching to '" + service + "': " + e);
            return;
        }
        if (!Credentials.allows(ScopeSettings.of(settings), peer, daemonUid)) {
            ScopeSettings a = ScopeSettings.of(settings);
            log.warn("service {}: refused {}: not in allow (users {}, groups {})", service, peer, a.users(), a.groups());
            refuse(ctx, HttpResponseStatus.FORBIDDEN, Reason.PERMISSION_DENIED, "service '" + service + "' does not allow "
                    + peer + " (groups " + peer.groups() + "): allow.users = " + a.users() + ", allow.groups = "
                    + a.groups() + (a.allowsOwnerOnly() ? " (empty: only root and the daemon's user)" : ""));
            return;
        }
        String why = owner.notReady(service);
        if (why != null) {
            refuse(ctx, HttpResponseStatus.SERVICE_UNAVAILABLE, Reason.NOT_READY,
                    "the daemon cannot serve '" + service + "': " + why);
            return;
        }
        Channel ch = ctx.channel();
        ch.config().setAutoRead(false); // nothing is read until the owner's handlers are in place
        upgraded = true;
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, HttpResponseStatus.SWITCHING_PROTOCOLS);
        r.headers().set(HttpHeaderNames.UPGRADE, UPGRADE)
                .set(HttpHeaderNames.CONNECTION, HttpHeaderValues.UPGRADE)
                .set("ManCom-Carry", owner.carry())
                .set("ManCom-EndPoint", owner.endpoint(service).toString());
        ctx.writeAndFlush(r).addListener((ChannelFutureListener) f -> {
            if (!f.isSuccess()) {
                ch.close();
                return;
            }
            ChannelPipeline p = ch.pipeline();
            for (String name : DaemonServer.HTTP_HANDLERS) {
                if (p.get(name) != null) {
                    p.remove(name);
                }
            }
            p.remove(this);
            daemon.attached(ch, service, style, peer);
            log.info("service {}: {} attached ({}, carry {})", service, peer, style, owner.carry());
            owner.attach(service, ch, peer);
        });
    }

    private void refuse(ChannelHandlerContext ctx, HttpResponseStatus status, Reason reason, String message) {
        // An attach that is refused is answered and closed: the process does not retry on it.
        send(ctx, false, error(status, reason, message));
    }

    /** Builds the body on the control executor and sends it from there. */
    private void offLoop(ChannelHandlerContext ctx, boolean keepAlive, String type, Supplier<String> body) {
        try {
            executor.execute(() -> {
                FullHttpResponse r;
                try {
                    r = response(HttpResponseStatus.OK, type, body.get());
                } catch (RuntimeException e) {
                    log.warn("control socket: building the answer failed", e);
                    r = error(HttpResponseStatus.INTERNAL_SERVER_ERROR, Reason.PROTOCOL, e.toString());
                }
                send(ctx, keepAlive, r);
            });
        } catch (RejectedExecutionException e) {
            send(ctx, false, error(HttpResponseStatus.SERVICE_UNAVAILABLE, Reason.NOT_READY, "the daemon is stopping"));
        }
    }

    static FullHttpResponse error(HttpResponseStatus status, Reason reason, String message) {
        Map<String, String> body = new LinkedHashMap<>();
        body.put("reason", reason.name());
        body.put("message", message);
        String text;
        try {
            text = JSON.writeValueAsString(body) + "\n";
        } catch (IOException e) {
            text = "{\"reason\":\"" + reason.name() + "\"}\n";
        }
        return response(status, "application/json", text);
    }

    private static FullHttpResponse response(HttpResponseStatus status, String type, String text) {
        ByteBuf content = Unpooled.copiedBuffer(text, StandardCharsets.UTF_8);
        FullHttpResponse r = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1, status, content);
        r.headers().set(HttpHeaderNames.CONTENT_TYPE, type).set(HttpHeaderNames.CACHE_CONTROL, HttpHeaderValues.NO_CACHE);
        HttpUtil.setContentLength(r, content.readableBytes());
        return r;
    }

    private static void send(ChannelHandlerContext ctx, boolean keepAlive, FullHttpResponse r) {
        HttpUtil.setKeepAlive(r, keepAlive);
        var f = ctx.writeAndFlush(r);
        if (!keepAlive) {
            f.addListener(ChannelFutureListener.CLOSE);
        }
    }

    @Override
    public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
        log.debug("control client failed: {}", cause.toString());
        ctx.close();
    }
}
