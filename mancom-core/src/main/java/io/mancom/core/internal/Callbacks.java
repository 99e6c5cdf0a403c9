package io.mancom.core.internal;

import io.mancom.AcceptCallback;
import io.mancom.DataReceiver;

import java.util.List;
import java.util.concurrent.Executor;

/** The callbacks a connection's events go to: a service's registrations, or a client's receiver. */
interface Callbacks {

    /** An acceptor and the executor it runs on (null: the event loop). */
    record Acceptor(AcceptCallback callback, Executor executor) {
    }

    /** A receiver and the executor it runs on (null: the event loop). */
    record Receiver(DataReceiver receiver, Executor executor) {
    }

    /** The acceptors to call for a new connection. */
    List<Acceptor> acceptors();

    /** The receiver now, or null while there is none (data is held and reading paused). */
    Receiver receiver();
}
