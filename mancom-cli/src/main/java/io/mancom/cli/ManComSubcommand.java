package io.mancom.cli;

/**
 * A subcommand that another jar adds to {@code mancom}: {@link Main} finds every implementation
 * with {@link java.util.ServiceLoader} (list it in {@code META-INF/services/io.mancom.cli.ManComSubcommand})
 * and adds it beside the built-in commands. The benchmarks ({@code mancom bench}, in the
 * mancom-bench jar) come this way, so the production jar does not carry them.
 *
 * <p>An implementation is a picocli command: a public class annotated with
 * {@code @picocli.CommandLine.Command}, with a public no-argument constructor, usually a
 * {@code Callable<Integer>} returning the exit code. A new instance is made for every command
 * line; it is used on the calling thread only.
 */
public interface ManComSubcommand {
}
