package io.mancom.cli.internal;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * A plain-text table: columns padded to their widest cell, numbers right-aligned. Not thread-safe.
 */
public final class Table {
    private final List<String[]> rows = new ArrayList<>();
    private final boolean[] rightAligned;
    private final int[] minWidth;
    private final String indent;

    /**
     * @param indent  printed before every line
     * @param headers the column headers; a header ending in {@code >} marks a right-aligned column
     *                (the {@code >} is not printed)
     */
    public Table(String indent, String... headers) {
        this.indent = indent;
        this.rightAligned = new boolean[headers.length];
        this.minWidth = new int[headers.length];
        String[] h = new String[headers.length];
        for (int i = 0; i < headers.length; i++) {
            rightAligned[i] = headers[i].endsWith(">");
            h[i] = rightAligned[i] ? headers[i].substring(0, headers[i].length() - 1) : headers[i];
        }
        rows.add(h);
    }

    /**
     * Makes column {@code column} at least {@code width} wide, so that a table printed a row at a
     * time stays aligned when a later cell is wider than the earlier ones.
     */
    public Table minWidth(int column, int width) {
        minWidth[column] = width;
        return this;
    }

    /** Adds a row; missing cells are blank. */
    public Table row(Object... cells) {
        String[] r = new String[rightAligned.length];
        for (int i = 0; i < r.length; i++) {
            r[i] = i < cells.length && cells[i] != null ? cells[i].toString() : "";
        }
        rows.add(r);
        return this;
    }

    /** The lines of the table, the header first. */
    public List<String> lines() {
        int[] width = minWidth.clone();
        for (String[] r : rows) {
            for (int i = 0; i < r.length; i++) {
                width[i] = Math.max(width[i], r[i].length());
            }
        }
        List<String> out = new ArrayList<>();
        for (String[] r : rows) {
            StringBuilder sb = new StringBuilder(indent);
            for (int i = 0; i < r.length; i++) {
                String pad = " ".repeat(width[i] - r[i].length());
                sb.append(i == 0 ? "" : "   ").append(rightAligned[i] ? pad + r[i] : r[i] + pad);
            }
            out.add(sb.toString().stripTrailing());
        }
        return out;
    }

    /** Prints the table. */
    public void print(PrintWriter out) {
        lines().forEach(out::println);
    }
}
