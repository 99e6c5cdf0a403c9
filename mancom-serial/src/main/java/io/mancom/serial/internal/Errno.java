package io.mancom.serial.internal;

/** Linux errno values jSerialComm reports, by name, for messages. */
final class Errno {
    static final int EPERM = 1;
    static final int ENOENT = 2;
    static final int EIO = 5;
    static final int ENXIO = 6;
    static final int EAGAIN = 11;
    static final int EACCES = 13;
    static final int EBUSY = 16;
    static final int ENODEV = 19;
    static final int EINVAL = 22;
    static final int ENOTTY = 25;

    private Errno() {
    }

    /** For example {@code "EIO (Input/output error)"}, or {@code "error 77"} for one not known here. */
    static String describe(int errno) {
        switch (errno) {
            case EPERM: return "EPERM (Operation not permitted)";
            case ENOENT: return "ENOENT (No such file or directory)";
            case 4: return "EINTR (Interrupted system call)";
            case EIO: return "EIO (Input/output error)";
            case ENXIO: return "ENXIO (No such device or address)";
            case 9: return "EBADF (Bad file descriptor)";
            case EAGAIN: return "EAGAIN (Resource temporarily unavailable)";
            case 12: return "ENOMEM (Cannot allocate memory)";
            case EACCES: return "EACCES (Permission denied)";
            case EBUSY: return "EBUSY (Device or resource busy)";
            case ENODEV: return "ENODEV (No such device)";
            case 20: return "ENOTDIR (Not a directory)";
            case 21: return "EISDIR (Is a directory)";
            case EINVAL: return "EINVAL (Invalid argument)";
            case 23: return "ENFILE (Too many open files in system)";
            case 24: return "EMFILE (Too many open files)";
            case ENOTTY: return "ENOTTY (Inappropriate ioctl for device)";
            case 32: return "EPIPE (Broken pipe)";
            case 108: return "ESHUTDOWN (Cannot send after transport endpoint shutdown)";
            default: return "error " + errno;
        }
    }
}
