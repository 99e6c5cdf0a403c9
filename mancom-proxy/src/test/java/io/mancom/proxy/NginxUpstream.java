package io.mancom.proxy;

import io.mancom.testkit.Nginx;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The nginx the proxy tests talk to: an HTTP/2 cleartext listener ({@link #h2c}), an HTTP/1.1
 * listener ({@link #http}), an h2c listener allowing one stream at a time ({@link #oneStream}) and
 * one that ends each connection with a GOAWAY after 40 requests ({@link #goAway}), all with the
 * same locations:
 * <ul>
 *   <li>{@code /echo/...}: answers {@code "<method> <uri> <body>"} (through a keep-alive upstream
 *       block to a third listener, which is how nginx gets at a request's body);</li>
 *   <li>{@code /slow}: proxied to a socket that never answers ({@code silentPort});</li>
 *   <li>anything else: {@code "ok <uri>\n"}.</li>
 * </ul>
 * Each front listener logs {@code $connection $request_uri $status} to its own access log, so a
 * test can count the upstream connections the proxy used.
 */
final class NginxUpstream implements AutoCloseable {
    final int h2c = Nginx.freePort();
    final int http = Nginx.freePort();
    final int oneStream = Nginx.freePort();
    final int back = Nginx.freePort();
    final int goAway = Nginx.freePort();
    final Nginx nginx;

    NginxUpstream(Path dir, int silentPort) throws IOException {
        String locations = """
                    location /echo/ { proxy_pass http://back; proxy_http_version 1.1;
                                      proxy_set_header Connection ""; proxy_set_header X-Body $request_body; }
                    location /slow { proxy_pass http://127.0.0.1:%d; proxy_read_timeout 300s; }
                    location / { return 200 "ok $request_uri\\n"; }
                """.formatted(silentPort);
        String http = """
                  log_format conn '$connection $request_uri $status';
                  keepalive_requests 10000000;
                  keepalive_timeout 300s;
                  client_body_buffer_size 64k;
                  client_body_in_single_buffer on;
                  upstream back { server 127.0.0.1:%4$d; keepalive 64; }
                  server { listen 127.0.0.1:%1$d http2; access_log %5$s/h2c.log conn;
                %6$s  }
                  server { listen 127.0.0.1:%2$d; access_log %5$s/http.log conn;
                %6$s  }
                  server { listen 127.0.0.1:%3$d http2; http2_max_concurrent_streams 1;
                           access_log %5$s/one.log conn;
                %6$s  }
                  server { listen 127.0.0.1:%7$d http2; keepalive_requests 40; access_log %5$s/goaway.log conn;
                %6$s  }
                  server { listen 127.0.0.1:%4$d; keepalive_requests 10000000;
                    location / { return 200 "$request_method $request_uri $http_x_body"; } }
                """.formatted(h2c, this.http, oneStream, back, dir, locations, goAway);
        nginx = Nginx.start(dir, 1, http, List.of(h2c, this.http, oneStream, back, goAway));
    }

    /** The distinct {@code $connection} numbers of the requests whose URI starts with {@code prefix}, in {@code log}. */
    Set<String> connections(String log, String prefix) throws IOException {
        Set<String> ids = new TreeSet<>();
        for (String line : Files.readAllLines(nginx.dir().resolve(log))) {
            String[] f = line.split(" ");
            if (f.length >= 2 && f[1].startsWith(prefix)) {
                ids.add(f[0]);
            }
        }
        return ids;
    }

    /** How many requests whose URI starts with {@code prefix} are in {@code log}. */
    long requests(String log, String prefix) throws IOException {
        return Files.readAllLines(nginx.dir().resolve(log)).stream()
                .filter(l -> l.split(" ").length >= 2 && l.split(" ")[1].startsWith(prefix)).count();
    }

    @Override
    public void close() {
        nginx.close();
    }
}
