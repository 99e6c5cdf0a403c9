package io.mancom.serial.internal;

import io.mancom.EndPoint;
import io.mancom.ManComException;

/**
 * Run as another user by {@link SerialErrorsTest}: opens the endpoint given and prints the
 * outcome on two lines, the reason (or OPENED) and the message.
 */
public final class PermissionProbe {
    private PermissionProbe() {
    }

    public static void main(String[] args) {
        try {
            new SerialOpener(false).open(EndPoint.parse(args[0])).close();
            System.out.println("OPENED");
        } catch (ManComException e) {
            System.out.println(e.reason());
            System.out.println(e.getMessage());
        }
    }
}
