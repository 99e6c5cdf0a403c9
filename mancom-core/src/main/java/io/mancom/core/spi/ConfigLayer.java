package io.mancom.core.spi;

import java.nio.file.Path;
import java.util.Optional;

/**
 * One layer of the configuration.
 *
 * @param name    what the layer is, for example {@code reference.conf}, {@code /etc/mancom/mancom.conf},
 *                {@code $MANCOM_CONFIG}, {@code -Dmancom.*}
 * @param file    the file read, for file layers
 * @param present whether the layer existed (a missing system or user file is not an error)
 */
public record ConfigLayer(String name, Optional<Path> file, boolean present) {
}
